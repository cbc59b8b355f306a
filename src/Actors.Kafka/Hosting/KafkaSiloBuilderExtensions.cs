using Actors.Broker;
using Actors.Kafka.Listener;
using Actors.Kafka.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Hosting;

namespace Actors.Kafka.Hosting;

/// <summary><c>silo.AddKafkaListener(...)</c>: serves Kafka clients on the silo's Kafka port.</summary>
public static class KafkaSiloBuilderExtensions
{
    /// <summary>The configuration section bound to <see cref="KafkaListenerOptions"/>.</summary>
    public const string ConfigurationSection = "Actors:Kafka";

    /// <summary>
    /// Adds the Kafka listener (the silo must also be a broker: <c>AddBroker</c>). Options bind from "Actors:Kafka"
    /// (where Kafka's <c>advertised.listeners</c> is accepted under that name too), then <paramref name="configure"/>;
    /// they are checked when the silo starts, and an error names the setting.
    /// </summary>
    public static ISiloBuilder AddKafkaListener(this ISiloBuilder builder, Action<KafkaListenerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var section = builder.Configuration.GetSection(ConfigurationSection);
        builder.Services.AddOptions<KafkaListenerOptions>()
            .Bind(section)
            .Configure(o =>
            {
                BindKafkaNames(section, o);
                configure?.Invoke(o);
            })
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<KafkaListenerOptions>, KafkaListenerOptionsValidator>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        // One authorizer per silo, shared by every listener and by the web console, so both decide from the same copy
        // of the ACLs and log refusals alike.
        builder.Services.AddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<KafkaListenerOptions>>().Value.Authorizer();
            return settings.Enabled
                ? new AclAuthorizer(settings, sp.GetRequiredService<IGrainFactory>().GetGrain<IAclsGrain>(BrokerGrainKeys.Acls).GetIfChangedAsync,
                    sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<KafkaListener>>())
                : AclAuthorizer.Disabled;
        });
        builder.Services.AddSingleton<KafkaListener>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<KafkaListener>());
        return builder;
    }

    /// <summary>Reads "Actors:Kafka" of <paramref name="configuration"/> as <see cref="AddKafkaListener"/> does and
    /// checks it, so a host can refuse bad settings before it starts.</summary>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it.</exception>
    public static KafkaListenerOptions ReadOptions(IConfiguration configuration, string defaultAdvertisedHost)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(ConfigurationSection);
        var options = new KafkaListenerOptions();
        section.Bind(options);
        BindKafkaNames(section, options);
        options.Resolve(defaultAdvertisedHost);
        return options;
    }

    /// <summary>Kafka's dotted names, which the binder cannot map (<c>listeners</c> binds by itself).</summary>
    private static void BindKafkaNames(IConfigurationSection section, KafkaListenerOptions options)
    {
        if (section["advertised.listeners"] is { Length: > 0 } advertised)
        {
            options.AdvertisedListeners = advertised;
        }

        options.SecurityProtocolMap = section["listener.security.protocol.map"] ?? options.SecurityProtocolMap;
        options.SaslEnabledMechanisms = section["sasl.enabled.mechanisms"] ?? options.SaslEnabledMechanisms;
        options.SslKeystoreLocation = section["ssl.keystore.location"] ?? options.SslKeystoreLocation;
        options.SslKeystoreType = section["ssl.keystore.type"] ?? options.SslKeystoreType;
        options.SslKeyPassword = section["ssl.key.password"] ?? options.SslKeyPassword;
        options.SslClientAuth = section["ssl.client.auth"] ?? options.SslClientAuth;
        options.SslTruststoreLocation = section["ssl.truststore.location"] ?? options.SslTruststoreLocation;
        options.SslTruststoreType = section["ssl.truststore.type"] ?? options.SslTruststoreType;
        foreach (var child in section.GetChildren())
        {
            // listener.name.<listener>.ssl.client.auth: the listener's own (Kafka lower-cases the name here).
            const string Prefix = "listener.name.";
            const string Suffix = ".ssl.client.auth";
            if (child.Key.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) && child.Key.EndsWith(Suffix, StringComparison.OrdinalIgnoreCase)
                && child.Key.Length > Prefix.Length + Suffix.Length && child.Value is { } value)
            {
                options.ListenerSslClientAuth[child.Key[Prefix.Length..^Suffix.Length].ToUpperInvariant()] = value;
            }
        }
        options.AuthorizerClassName = section["authorizer.class.name"] ?? options.AuthorizerClassName;
        options.SuperUsers = section["super.users"] ?? options.SuperUsers;
        if (bool.TryParse(section["allow.everyone.if.no.acl.found"], out var allowEveryone))
        {
            options.AllowEveryoneIfNoAclFound = allowEveryone;
        }
    }

    /// <summary>Fails the silo's start with the message naming the setting.</summary>
    private sealed class KafkaListenerOptionsValidator : IValidateOptions<KafkaListenerOptions>
    {
        public ValidateOptionsResult Validate(string? name, KafkaListenerOptions options)
        {
            try
            {
                options.Resolve("localhost");
                return ValidateOptionsResult.Success;
            }
            catch (ArgumentException e)
            {
                return ValidateOptionsResult.Fail(e.Message);
            }
        }
    }
}
