using System.Globalization;
using Actors.Broker;
using Actors.Broker.Topics;
using Actors.Kafka.Protocol.Messages;
using Actors.Kafka.Security;

namespace Actors.Kafka.Listener.Apis;

/// <summary>
/// DescribeConfigs and IncrementalAlterConfigs for topics (resource type 2) and brokers (4).
/// </summary>
/// <remarks>
/// <para>A topic lists every config of <see cref="ConfigCatalog.Topic"/>: its override (DYNAMIC_TOPIC_CONFIG) or the
/// silo's default (STATIC_BROKER_CONFIG when the silo was configured with another value than the built-in one,
/// DEFAULT_CONFIG otherwise). Overrides are read from the controller, so a change is seen at once from any silo.</para>
/// <para>A broker lists this silo's settings, read-only. The resource name is this silo's broker id or empty; another
/// broker's id is answered INVALID_REQUEST, as Kafka does (clients send a broker's resource to that broker).
/// Broker settings cannot be altered at run time: INVALID_REQUEST, saying where they are set.</para>
/// <para>Broker loggers (8) and every other resource type are answered INVALID_REQUEST.</para>
/// </remarks>
internal sealed class ConfigApis(KafkaBroker broker)
{
    /// <summary>Kafka's resource types (DescribeConfigs, IncrementalAlterConfigs).</summary>
    public const sbyte TopicResource = 2;

    /// <summary>A broker.</summary>
    public const sbyte BrokerResource = 4;

    /// <summary>A broker's loggers.</summary>
    public const sbyte BrokerLoggerResource = 8;

    /// <summary>The answer to altering a broker setting.</summary>
    public const string BrokerSettingsAreStatic =
        "Broker settings are set in the silo's configuration (appsettings.json \"Actors:Broker\" / --flags such as --min.insync.replicas); restart the silo to change them. Topic configs can be altered: use resource type TOPIC.";

    private const string BrokerLoggersNotServed =
        "Broker loggers are not served: a silo's log levels are set in its configuration (appsettings.json \"Logging:LogLevel\").";

    private enum AlterOperation : sbyte
    {
        Set = 0,
        Delete = 1,
        Append = 2,
        Subtract = 3,
    }

    public async Task<byte[]?> DescribeConfigsAsync(KafkaRequest request)
    {
        var asked = request.Read<DescribeConfigsRequestData>();
        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        var results = new List<DescribeConfigsResponseData.DescribeConfigsResult>(asked.Resources.Count);
        foreach (var resource in asked.Resources)
        {
            var result = new DescribeConfigsResponseData.DescribeConfigsResult
            {
                ResourceType = resource.ResourceType,
                ResourceName = resource.ResourceName,
                ErrorMessage = null,
            };
            if (Refusal(access, AclOperation.DescribeConfigs, resource.ResourceType, resource.ResourceName) is { } refused)
            {
                (result.ErrorCode, result.ErrorMessage) = ((short)refused.Code, refused.Message);
                results.Add(result);
                continue;
            }

            try
            {
                var configs = await ConfigsOfAsync(resource.ResourceType, resource.ResourceName).ConfigureAwait(false);
                var keys = resource.ConfigurationKeys is { Count: > 0 } k ? k.ToHashSet(StringComparer.Ordinal) : null;
                result.Configs = configs.Where(c => keys is null || keys.Contains(c.Name))
                    .Select(c => ToResult(c, asked.IncludeSynonyms, asked.IncludeDocumentation))
                    .ToList();
            }
            catch (Exception e)
            {
                var (code, message) = AdminApis.Failure(e, broker, $"Describing the configs of {Describe(resource.ResourceType, resource.ResourceName)}");
                result.ErrorCode = (short)code;
                result.ErrorMessage = message;
            }

            results.Add(result);
        }

        return request.Respond(new DescribeConfigsResponseData { Results = results });
    }

    public async Task<byte[]?> IncrementalAlterConfigsAsync(KafkaRequest request)
    {
        var asked = request.Read<IncrementalAlterConfigsRequestData>();
        var access = await RequestAccess.ForAsync(broker, request).ConfigureAwait(false);
        var duplicates = asked.Resources.GroupBy(r => (r.ResourceType, r.ResourceName)).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        var responses = new List<IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse>(asked.Resources.Count);
        foreach (var resource in asked.Resources.DistinctBy(r => (r.ResourceType, r.ResourceName)))
        {
            var (code, message) = duplicates.Contains((resource.ResourceType, resource.ResourceName))
                ? (ErrorCode.InvalidRequest, $"{Describe(resource.ResourceType, resource.ResourceName)} is named more than once in the request.")
                : Refusal(access, AclOperation.AlterConfigs, resource.ResourceType, resource.ResourceName) is { } refused ? refused
                : await AlterAsync(resource, asked.ValidateOnly).ConfigureAwait(false);
            responses.Add(new IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse
            {
                ResourceType = resource.ResourceType,
                ResourceName = resource.ResourceName,
                ErrorCode = (short)code,
                ErrorMessage = message,
            });
        }

        return request.Respond(new IncrementalAlterConfigsResponseData { Responses = responses });
    }

    /// <summary>A topic's configs need the operation on the topic (else TOPIC_AUTHORIZATION_FAILED), a broker's and its
    /// loggers' on the cluster (else CLUSTER_AUTHORIZATION_FAILED), as Kafka checks them.</summary>
    private static (ErrorCode Code, string Message)? Refusal(RequestAccess access, AclOperation operation, sbyte type, string name) => type switch
    {
        TopicResource when !access.AllowsTopic(operation, name) =>
            (ErrorCode.TopicAuthorizationFailed, $"{access.Principal} may not {RequestAccess.Name(operation)} topic '{name}'."),
        BrokerResource or BrokerLoggerResource when !access.AllowsCluster(operation) =>
            (ErrorCode.ClusterAuthorizationFailed, $"{access.Principal} may not {RequestAccess.Name(operation)} the cluster."),
        _ => null,
    };

    private static string Describe(sbyte type, string name) => type switch
    {
        TopicResource => $"topic '{name}'",
        BrokerResource => $"broker '{name}'",
        _ => $"resource '{name}' of type {type.ToString(CultureInfo.InvariantCulture)}",
    };

    private static DescribeConfigsResponseData.DescribeConfigsResourceResult ToResult(ConfigValue config, bool synonyms, bool documentation) => new()
    {
        Name = config.Name,
        Value = config.Value,
        ReadOnly = config.ReadOnly,
        IsDefault = config.Source == ConfigSource.DefaultConfig,
        ConfigSource = (sbyte)config.Source,
        IsSensitive = false,
        Synonyms = synonyms
            ? config.Synonyms.Select(s => new DescribeConfigsResponseData.DescribeConfigsSynonym { Name = s.Name, Value = s.Value, Source = (sbyte)s.Source }).ToList()
            : [],
        ConfigType = (sbyte)config.Type,
        Documentation = documentation ? config.Documentation : null,
    };

    private static BrokerException UnsupportedResource(sbyte type) => type == BrokerLoggerResource
        ? new BrokerException(ErrorCode.InvalidRequest, BrokerLoggersNotServed)
        : new BrokerException(ErrorCode.InvalidRequest,
            $"Resource type {type.ToString(CultureInfo.InvariantCulture)} is not served; configs are served for topics (2) and brokers (4).");

    private async Task<IEnumerable<ConfigValue>> ConfigsOfAsync(sbyte type, string name)
    {
        switch (type)
        {
            case TopicResource:
                var topic = (await broker.Controller.DescribeTopicsAsync([name]).ConfigureAwait(false))[0];
                return ConfigCatalog.TopicConfigs(topic, broker.BrokerSettings);
            case BrokerResource:
                EnsureThisBroker(name);
                return ConfigCatalog.BrokerConfigs(broker.BrokerSettings, broker.NodeId);
            default:
                throw UnsupportedResource(type);
        }
    }

    private void EnsureThisBroker(string name)
    {
        if (name.Length == 0 || (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id == broker.NodeId))
        {
            return;
        }

        throw new BrokerException(ErrorCode.InvalidRequest,
            $"Unexpected broker id, expected {broker.NodeId.ToString(CultureInfo.InvariantCulture)} or empty string, but received '{name}': ask that broker for its own settings.");
    }

    private async Task<(ErrorCode, string?)> AlterAsync(IncrementalAlterConfigsRequestData.AlterConfigsResource resource, bool validateOnly)
    {
        try
        {
            switch (resource.ResourceType)
            {
                case TopicResource:
                    await AlterTopicAsync(resource.ResourceName, resource.Configs, validateOnly).ConfigureAwait(false);
                    return (ErrorCode.None, null);
                case BrokerResource:
                    return (ErrorCode.InvalidRequest, BrokerSettingsAreStatic);
                default:
                    throw UnsupportedResource(resource.ResourceType);
            }
        }
        catch (Exception e)
        {
            return AdminApis.Failure(e, broker, $"Altering the configs of {Describe(resource.ResourceType, resource.ResourceName)}");
        }
    }

    /// <summary>Turns the operations into the overrides to set and to remove, checks them as the controller would, and
    /// (unless only validating) applies them in one controller call.</summary>
    private async Task AlterTopicAsync(string topic, List<IncrementalAlterConfigsRequestData.AlterableConfig> configs, bool validateOnly)
    {
        var duplicate = AdminApis.Duplicates(configs.Select(c => c.Name)).FirstOrDefault();
        if (duplicate is not null)
        {
            throw new BrokerException(ErrorCode.InvalidRequest, $"Config '{duplicate}' is altered more than once in the request.");
        }

        var description = (await broker.Controller.DescribeTopicsAsync([topic]).ConfigureAwait(false))[0];
        var set = new Dictionary<string, string>(StringComparer.Ordinal);
        var delete = new List<string>();
        foreach (var config in configs)
        {
            var definition = ConfigCatalog.TopicConfig(config.Name)
                ?? throw new BrokerException(ErrorCode.InvalidConfig,
                    $"Unknown topic config name '{config.Name}'; known names: {string.Join(", ", TopicConfigNames.All)}.");
            if (definition.ReadOnly)
            {
                throw new BrokerException(ErrorCode.InvalidConfig,
                    $"Topic config '{config.Name}' is fixed at '{definition.Default(broker.BrokerSettings)}' by this broker and cannot be altered.");
            }

            switch ((AlterOperation)config.ConfigOperation)
            {
                case AlterOperation.Set:
                    set[config.Name] = config.Value
                        ?? throw new BrokerException(ErrorCode.InvalidRequest, $"Null value not supported for topic config '{config.Name}'.");
                    break;
                case AlterOperation.Delete:
                    delete.Add(config.Name);
                    break;
                case AlterOperation.Append or AlterOperation.Subtract:
                    set[config.Name] = AppendOrSubtract(definition, (AlterOperation)config.ConfigOperation, config.Value, description);
                    break;
                default:
                    throw new BrokerException(ErrorCode.InvalidRequest,
                        $"Unknown config operation {config.ConfigOperation.ToString(CultureInfo.InvariantCulture)} for '{config.Name}' (0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT).");
            }
        }

        foreach (var (name, value) in set)
        {
            TopicConfigValidator.ValidateConfig(name, value);
        }

        if (!validateOnly && (set.Count > 0 || delete.Count > 0))
        {
            await broker.Controller.AlterTopicConfigsAsync(new AlterTopicConfigsRequest { Topic = topic, Set = set, Delete = [.. delete] })
                .ConfigureAwait(false);
        }
    }

    /// <summary>APPEND adds the values not yet in the list; SUBTRACT removes them. Only list configs take them.</summary>
    private string AppendOrSubtract(TopicConfigDefinition definition, AlterOperation operation, string? value, TopicDescription topic)
    {
        if (definition.Type != ConfigType.List)
        {
            throw new BrokerException(ErrorCode.InvalidConfig,
                $"Config value {(operation == AlterOperation.Append ? "append" : "subtract")} is not allowed for config key '{definition.Name}': it is not a list.");
        }

        static IEnumerable<string> Items(string? list) =>
            (list ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

        var current = Items(ConfigCatalog.CurrentValue(definition, topic.Configs, broker.BrokerSettings)).ToList();
        var given = Items(value).ToList();
        var next = operation == AlterOperation.Append
            ? current.Concat(given.Where(v => !current.Contains(v, StringComparer.Ordinal))).Distinct(StringComparer.Ordinal)
            : current.Where(v => !given.Contains(v, StringComparer.Ordinal));
        return string.Join(',', next);
    }
}
