using System.CommandLine;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Actors.Cli;

/// <summary>
/// <c>actors acls</c>: the cluster's ACLs, with the flags of <c>kafka-acls.sh</c>:
/// <c>--add --allow-principal User:alice --operation Read --topic orders</c>,
/// <c>--remove --deny-principal User:mallory --operation All --group ops- --resource-pattern-type prefixed --force</c>,
/// <c>--list [--topic orders] [--principal User:alice]</c>. Through the cluster's CreateAcls, DescribeAcls and DeleteAcls.
/// </summary>
internal static class AclsCommand
{
    /// <summary>Librdkafka's resource type for the cluster (the ACL API's CLUSTER, 4).</summary>
    private const ResourceType ClusterResource = ResourceType.Broker;

    /// <summary>The ACL API's TRANSACTIONAL_ID, which the .NET client's enum does not name.</summary>
    private const ResourceType TransactionalIdResource = (ResourceType)5;

    public static Command Build(CliIo io)
    {
        var bootstrap = Commands.BootstrapServer();
        var commandConfig = Commands.CommandConfig();
        var add = Commands.Flag("--add", "Add the ACLs the other flags describe.");
        var remove = Commands.Flag("--remove", "Remove the ACLs the other flags describe (asks first unless --force).");
        var list = Commands.Flag("--list", "List ACLs (of the resources given, or all), optionally of one --principal.");
        var allowPrincipals = Commands.Repeated("--allow-principal", "A principal allowed (User:name, User:* for everyone); repeatable.", "User:name");
        var denyPrincipals = Commands.Repeated("--deny-principal", "A principal denied; repeatable. A DENY wins over any ALLOW.", "User:name");
        var allowHosts = Commands.Repeated("--allow-host", "The client addresses the --allow-principal ACLs apply from. Default * (any).", "ip");
        var denyHosts = Commands.Repeated("--deny-host", "The client addresses the --deny-principal ACLs apply from. Default * (any).", "ip");
        var operations = Commands.Repeated("--operation",
            "Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite or All (the default); repeatable.", "operation");
        var topics = Commands.Repeated("--topic", "A topic (or * for every topic, or a prefix with --resource-pattern-type prefixed); repeatable.", "topic");
        var groups = Commands.Repeated("--group", "A consumer group (or *, or a prefix); repeatable.", "group");
        var transactionalIds = Commands.Repeated("--transactional-id", "A transactional id (or *, or a prefix); repeatable.", "id");
        var cluster = Commands.Flag("--cluster", "The cluster resource (kafka-cluster): admin operations.");
        var patternType = new Option<string>("--resource-pattern-type")
        {
            Description = "literal (the default; the exact name or *), prefixed (every name starting with it); --list and --remove also take any and match.",
            DefaultValueFactory = _ => "literal",
            HelpName = "literal|prefixed|any|match",
        };
        var principal = new Option<string?>("--principal") { Description = "With --list: only the ACLs of this principal.", HelpName = "User:name" };
        var force = Commands.Flag("--force", "With --remove: do not ask.");
        var command = new Command("acls", "ACLs of a cluster with an authorizer, as kafka-acls.sh manages them.")
        {
            bootstrap, commandConfig, add, remove, list, allowPrincipals, denyPrincipals, allowHosts, denyHosts, operations, topics, groups,
            transactionalIds, cluster, patternType, principal, force,
        };
        command.SetAction(async (parse, _) =>
        {
            var action = Commands.OneOf(parse, "acls", add, remove, list);
            var pattern = Pattern(parse.GetValue(patternType)!, action == add);
            var resources = new List<ResourcePatternFilter>();
            void Resources(string[]? names, ResourceType type)
            {
                foreach (var name in names ?? [])
                {
                    resources.Add(new ResourcePatternFilter { Type = type, Name = name, ResourcePatternType = pattern });
                }
            }

            Resources(parse.GetValue(topics), ResourceType.Topic);
            Resources(parse.GetValue(groups), ResourceType.Group);
            Resources(parse.GetValue(transactionalIds), TransactionalIdResource);
            if (parse.GetValue(cluster))
            {
                resources.Add(new ResourcePatternFilter { Type = ClusterResource, Name = "kafka-cluster", ResourcePatternType = ResourcePatternType.Literal });
            }

            var entries = Entries(parse.GetValue(allowPrincipals), parse.GetValue(allowHosts), AclPermissionType.Allow)
                .Concat(Entries(parse.GetValue(denyPrincipals), parse.GetValue(denyHosts), AclPermissionType.Deny))
                .ToList();
            var ops = (parse.GetValue(operations) is { Length: > 0 } named ? named : ["All"]).Select(Operation).Distinct().ToList();

            var client = new Cluster(parse.GetValue(bootstrap)!, Properties.File(parse.GetValue(commandConfig), "--command-config"), io);
            using var admin = client.Admin();
            if (action == list)
            {
                var who = parse.GetValue(principal);
                if (who is not null)
                {
                    Principal(who, "--principal");
                }

                var filters = resources.Count == 0
                    ? [new ResourcePatternFilter { Type = ResourceType.Any, Name = null, ResourcePatternType = ResourcePatternType.Any }]
                    : resources;
                foreach (var filter in filters)
                {
                    var described = await Describe(admin, filter, new AccessControlEntryFilter
                    {
                        Principal = who, Host = null, Operation = AclOperation.Any, PermissionType = AclPermissionType.Any,
                    });
                    await PrintAsync(io, described);
                }

                return ExitCodes.Ok;
            }

            if (resources.Count == 0)
            {
                throw new CliException($"{action.Name} needs a resource: --topic, --group, --transactional-id or --cluster.", ExitCodes.Usage);
            }

            if (entries.Count == 0)
            {
                throw new CliException($"{action.Name} needs --allow-principal or --deny-principal (User:name, or User:* for everyone).", ExitCodes.Usage);
            }

            var bindings = (from r in resources
                            from e in entries
                            from op in ops
                            select (Resource: r, Entry: new AccessControlEntryFilter { Principal = e.Principal, Host = e.Host, Operation = op, PermissionType = e.Permission }))
                .ToList();
            if (action == add)
            {
                foreach (var resource in resources)
                {
                    await io.Out.WriteLineAsync($"Adding ACLs for resource `{Describe(resource)}`: ");
                    foreach (var b in bindings.Where(b => b.Resource == resource))
                    {
                        await io.Out.WriteLineAsync($" \t{Describe(b.Entry)} ");
                    }

                    await io.Out.WriteLineAsync();
                }

                try
                {
                    await admin.CreateAclsAsync(bindings.Select(b => new AclBinding
                    {
                        Pattern = new ResourcePattern { Type = b.Resource.Type, Name = b.Resource.Name, ResourcePatternType = b.Resource.ResourcePatternType },
                        Entry = new AccessControlEntry { Principal = b.Entry.Principal, Host = b.Entry.Host, Operation = b.Entry.Operation, PermissionType = b.Entry.PermissionType },
                    }), new CreateAclsOptions { RequestTimeout = Cluster.RequestTimeout });
                }
                catch (CreateAclsException e)
                {
                    var failed = e.Results.First(r => r.Error.IsError);
                    throw new CliException($"Adding ACLs failed: {failed.Error.Reason} ({failed.Error.Code}).", ExitCodes.Failed);
                }
            }
            else
            {
                if (!parse.GetValue(force))
                {
                    await io.Out.WriteAsync($"Are you sure you want to remove ACLs: {Environment.NewLine}{string.Join(Environment.NewLine, bindings.Select(b => $" \t{Describe(b.Entry)} "))}{Environment.NewLine} from resource filter `{string.Join(", ", resources.Select(Describe))}`? (y/n)");
                    var answer = await io.In.ReadLineAsync(io.Cancellation);
                    if (!string.Equals(answer?.Trim(), "y", StringComparison.OrdinalIgnoreCase))
                    {
                        await io.Out.WriteLineAsync();
                        return ExitCodes.Ok;
                    }

                    await io.Out.WriteLineAsync();
                }

                try
                {
                    await admin.DeleteAclsAsync(bindings.Select(b => new AclBindingFilter { PatternFilter = b.Resource, EntryFilter = b.Entry }),
                        new DeleteAclsOptions { RequestTimeout = Cluster.RequestTimeout });
                }
                catch (DeleteAclsException e)
                {
                    var failed = e.Results.First(r => r.Error.IsError);
                    throw new CliException($"Removing ACLs failed: {failed.Error.Reason} ({failed.Error.Code}).", ExitCodes.Failed);
                }
            }

            foreach (var resource in resources)
            {
                await PrintAsync(io, await Describe(admin, new ResourcePatternFilter
                {
                    Type = resource.Type, Name = resource.Name, ResourcePatternType = resource.ResourcePatternType,
                }, new AccessControlEntryFilter { Operation = AclOperation.Any, PermissionType = AclPermissionType.Any }));
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<List<AclBinding>> Describe(IAdminClient admin, ResourcePatternFilter resource, AccessControlEntryFilter entry)
    {
        try
        {
            var result = await admin.DescribeAclsAsync(new AclBindingFilter { PatternFilter = resource, EntryFilter = entry },
                new DescribeAclsOptions { RequestTimeout = Cluster.RequestTimeout });
            return result.AclBindings;
        }
        catch (DescribeAclsException e)
        {
            throw new CliException($"Listing ACLs failed: {e.Result.Error.Reason} ({e.Result.Error.Code}).", ExitCodes.Failed);
        }
    }

    /// <summary>kafka-acls.sh's listing: each resource, then its ACLs one per line.</summary>
    private static async Task PrintAsync(CliIo io, List<AclBinding> bindings)
    {
        foreach (var resource in bindings.GroupBy(b => (b.Pattern.Type, b.Pattern.Name, b.Pattern.ResourcePatternType))
                     .OrderBy(g => g.Key.Type).ThenBy(g => g.Key.Name, StringComparer.Ordinal))
        {
            await io.Out.WriteLineAsync($"Current ACLs for resource `{Describe(resource.Key.Type, resource.Key.Name, resource.Key.ResourcePatternType)}`: ");
            foreach (var b in resource.OrderBy(b => b.Entry.Principal, StringComparer.Ordinal).ThenBy(b => b.Entry.PermissionType).ThenBy(b => b.Entry.Operation))
            {
                await io.Out.WriteLineAsync($" \t{Describe(b.Entry.Principal, b.Entry.Host, b.Entry.Operation, b.Entry.PermissionType)} ");
            }

            await io.Out.WriteLineAsync();
        }
    }

    private static IEnumerable<(string Principal, string Host, AclPermissionType Permission)> Entries(string[]? principals, string[]? hosts, AclPermissionType permission)
    {
        var from = hosts is { Length: > 0 } ? hosts : ["*"];
        return (principals ?? []).SelectMany(p => from.Select(h => (Principal(p, permission == AclPermissionType.Allow ? "--allow-principal" : "--deny-principal"), h, permission)));
    }

    private static string Principal(string value, string flag) =>
        value.StartsWith("User:", StringComparison.Ordinal) && value.Length > 5
            ? value
            : throw new CliException($"{flag} '{value}' is not a principal: write User:<name> (User:* for everyone).", ExitCodes.Usage);

    private static ResourcePatternType Pattern(string value, bool adding) => value.Trim().ToLowerInvariant() switch
    {
        "literal" => ResourcePatternType.Literal,
        "prefixed" => ResourcePatternType.Prefixed,
        "any" when !adding => ResourcePatternType.Any,
        "match" when !adding => ResourcePatternType.Match,
        _ => throw new CliException(
            $"--resource-pattern-type '{value}' is not {(adding ? "literal or prefixed (what --add takes)" : "literal, prefixed, any or match")}.", ExitCodes.Usage),
    };

    private static AclOperation Operation(string value) => value.Trim().Replace("_", string.Empty, StringComparison.Ordinal).ToLowerInvariant() switch
    {
        "all" => AclOperation.All,
        "read" => AclOperation.Read,
        "write" => AclOperation.Write,
        "create" => AclOperation.Create,
        "delete" => AclOperation.Delete,
        "alter" => AclOperation.Alter,
        "describe" => AclOperation.Describe,
        "clusteraction" => AclOperation.ClusterAction,
        "describeconfigs" => AclOperation.DescribeConfigs,
        "alterconfigs" => AclOperation.AlterConfigs,
        "idempotentwrite" => AclOperation.IdempotentWrite,
        _ => throw new CliException(
            $"--operation '{value}' is not one of Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, All.", ExitCodes.Usage),
    };

    private static string Describe(ResourcePatternFilter r) => Describe(r.Type, r.Name, r.ResourcePatternType);

    private static string Describe(ResourceType type, string? name, ResourcePatternType pattern) =>
        $"ResourcePattern(resourceType={TypeName(type)}, name={name ?? "*"}, patternType={Upper(pattern.ToString())})";

    private static string Describe(AccessControlEntryFilter e) => Describe(e.Principal, e.Host, e.Operation, e.PermissionType);

    private static string Describe(string? principal, string? host, AclOperation operation, AclPermissionType permission) =>
        $"(principal={principal}, host={host}, operation={Upper(operation.ToString())}, permissionType={Upper(permission.ToString())})";

    private static string TypeName(ResourceType type) => type switch
    {
        ClusterResource => "CLUSTER",
        TransactionalIdResource => "TRANSACTIONAL_ID",
        _ => Upper(type.ToString()),
    };

    /// <summary>IdempotentWrite → IDEMPOTENT_WRITE.</summary>
    private static string Upper(string name) =>
        string.Concat(name.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : char.ToUpperInvariant(c).ToString()));
}
