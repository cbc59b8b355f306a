using Microsoft.Extensions.Options;

namespace Actors.Configuration;

/// <summary>Validates <see cref="SiloOptions"/> at start; messages name the setting to change.</summary>
internal sealed class SiloOptionsValidator : IValidateOptions<SiloOptions>
{
    public ValidateOptionsResult Validate(string? name, SiloOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Name) || options.Name.Contains('@', StringComparison.Ordinal))
        {
            errors.Add($"SiloOptions.Name '{options.Name}' must be non-empty and must not contain '@'.");
        }

        if (string.IsNullOrWhiteSpace(options.AdvertisedHost))
        {
            errors.Add("SiloOptions.AdvertisedHost must be a host name or IP address.");
        }

        if (options.SiloPort is <= 0 or > 65535)
        {
            errors.Add($"SiloOptions.SiloPort {options.SiloPort} must be in 1..65535 (default {SiloOptions.DefaultSiloPort}).");
        }

        if (options.GatewayPort is < 0 or > 65535)
        {
            errors.Add($"SiloOptions.GatewayPort {options.GatewayPort} must be in 0..65535 (0 disables the gateway; default {SiloOptions.DefaultGatewayPort}).");
        }

        if (options.GatewayPort == options.SiloPort)
        {
            errors.Add($"SiloOptions.GatewayPort and SiloOptions.SiloPort are both {options.SiloPort}; they must differ.");
        }

        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            errors.Add("SiloOptions.DataDirectory must be a folder path.");
        }

        foreach (var peer in options.Peers)
        {
            if (!EndpointParser.TryParse(peer, out _, out _))
            {
                errors.Add($"SiloOptions.Peers entry '{peer}' is not 'host:port'.");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Validates <see cref="MessagingOptions"/> at start.</summary>
internal sealed class MessagingOptionsValidator : IValidateOptions<MessagingOptions>
{
    public ValidateOptionsResult Validate(string? name, MessagingOptions options)
    {
        var errors = new List<string>();
        if (options.MaxFrameBytes is < 1024 or > 1024 * 1024 * 1024)
        {
            errors.Add($"MessagingOptions.MaxFrameBytes {options.MaxFrameBytes} must be between 1 KiB and 1 GiB (default 16 MiB).");
        }

        if (options.ResponseTimeout <= TimeSpan.Zero)
        {
            errors.Add($"MessagingOptions.ResponseTimeout {options.ResponseTimeout} must be positive (default 30 s).");
        }

        if (options.SendQueueCapacity < 16)
        {
            errors.Add($"MessagingOptions.SendQueueCapacity {options.SendQueueCapacity} must be at least 16.");
        }

        if (options.MaxEnqueuedRequestsPerActivation < 1)
        {
            errors.Add($"MessagingOptions.MaxEnqueuedRequestsPerActivation {options.MaxEnqueuedRequestsPerActivation} must be at least 1.");
        }

        if (options.ConnectTimeout <= TimeSpan.Zero)
        {
            errors.Add($"MessagingOptions.ConnectTimeout {options.ConnectTimeout} must be positive.");
        }

        if (options.ReconnectBackoffMin <= TimeSpan.Zero || options.ReconnectBackoffMax < options.ReconnectBackoffMin)
        {
            errors.Add("MessagingOptions.ReconnectBackoffMin must be positive and not above MessagingOptions.ReconnectBackoffMax.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Validates <see cref="GrainCollectionOptions"/> at start.</summary>
internal sealed class GrainCollectionOptionsValidator : IValidateOptions<GrainCollectionOptions>
{
    public ValidateOptionsResult Validate(string? name, GrainCollectionOptions options)
    {
        var errors = new List<string>();
        if (options.CollectionAge <= TimeSpan.Zero)
        {
            errors.Add($"GrainCollectionOptions.CollectionAge {options.CollectionAge} must be positive (default 15 min).");
        }

        if (options.CollectionQuantum <= TimeSpan.Zero)
        {
            errors.Add($"GrainCollectionOptions.CollectionQuantum {options.CollectionQuantum} must be positive (default 1 min).");
        }

        if (options.ActivationTimeout <= TimeSpan.Zero)
        {
            errors.Add($"GrainCollectionOptions.ActivationTimeout {options.ActivationTimeout} must be positive.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Validates <see cref="ClientOptions"/> at start.</summary>
internal sealed class ClientOptionsValidator : IValidateOptions<ClientOptions>
{
    public ValidateOptionsResult Validate(string? name, ClientOptions options)
    {
        var errors = new List<string>();
        foreach (var gateway in options.Gateways)
        {
            if (!EndpointParser.TryParse(gateway, out _, out _))
            {
                errors.Add($"ClientOptions.Gateways entry '{gateway}' is not 'host:port'.");
            }
        }

        if (options.ConnectTimeout <= TimeSpan.Zero)
        {
            errors.Add($"ClientOptions.ConnectTimeout {options.ConnectTimeout} must be positive.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Parses "host:port".</summary>
internal static class EndpointParser
{
    public static bool TryParse(string? text, out string host, out int port)
    {
        host = string.Empty;
        port = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out port) || port is <= 0 or > 65535)
        {
            return false;
        }

        host = text[..colon].Trim('[', ']');
        return host.Length > 0;
    }
}
