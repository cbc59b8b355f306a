using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Confluent.Kafka.Admin;
using Spectre.Console;

namespace Actors.Cli;

/// <summary>
/// <c>actors user-scram</c>: SCRAM credentials, with the flags of <c>kafka-configs.sh --entity-type users</c>:
/// <c>--alter --add-config 'SCRAM-SHA-256=[iterations=8192,password=alice-secret]' --entity-name alice</c>,
/// <c>--alter --delete-config SCRAM-SHA-512 --entity-name alice</c>, <c>--describe [--entity-name alice]</c>.
/// The client salts and hashes the password (KIP-554); the cluster stores only the derived keys.
/// </summary>
internal static partial class UserScramCommand
{
    public static Command Build(CliIo io)
    {
        var bootstrap = Commands.BootstrapServer();
        var commandConfig = Commands.CommandConfig();
        var alter = Commands.Flag("--alter", "Add or delete credentials of --entity-name.");
        var describe = Commands.Flag("--describe", "List users' mechanisms and iterations (never a password or key).");
        var entityType = new Option<string>("--entity-type") { Description = "users (the only entity type of this command).", DefaultValueFactory = _ => "users", HelpName = "users" };
        var entityName = new Option<string?>("--entity-name") { Description = "The user.", HelpName = "user" };
        var addConfig = new Option<string?>("--add-config")
        {
            Description = "SCRAM-SHA-256=[iterations=N,password=P] and/or SCRAM-SHA-512=[...], comma-separated.",
            HelpName = "mechanism=[iterations=N,password=P]",
        };
        var deleteConfig = new Option<string?>("--delete-config") { Description = "SCRAM-SHA-256 and/or SCRAM-SHA-512, comma-separated.", HelpName = "mechanism" };
        var command = new Command("user-scram", "SCRAM users of a SASL cluster, as kafka-configs.sh --entity-type users manages them.")
        {
            bootstrap, commandConfig, alter, describe, entityType, entityName, addConfig, deleteConfig,
        };
        command.SetAction(async (parse, _) =>
        {
            var action = Commands.OneOf(parse, "user-scram", alter, describe);
            if (!string.Equals(parse.GetValue(entityType), "users", StringComparison.Ordinal))
            {
                throw new CliException($"--entity-type must be users for SCRAM credentials; got '{parse.GetValue(entityType)}'.", ExitCodes.Usage);
            }

            var cluster = new Cluster(parse.GetValue(bootstrap)!, Properties.File(parse.GetValue(commandConfig), "--command-config"), io);
            using var admin = cluster.Admin();
            var user = parse.GetValue(entityName);
            if (action == describe)
            {
                var described = await admin.DescribeUserScramCredentialsAsync(user is null ? [] : [user],
                    new DescribeUserScramCredentialsOptions { RequestTimeout = Cluster.RequestTimeout });
                foreach (var d in described.UserScramCredentialsDescriptions.OrderBy(d => d.User, StringComparer.Ordinal))
                {
                    var credentials = string.Join(", ", d.ScramCredentialInfos.Select(c => $"{Name(c.Mechanism)}-ITERATIONS={c.Iterations.ToString(CultureInfo.InvariantCulture)}"));
                    await io.Out.WriteLineAsync($"SCRAM credential configs for user-principal '{d.User}' are {credentials}");
                }

                return ExitCodes.Ok;
            }

            if (string.IsNullOrEmpty(user))
            {
                throw new CliException("--alter needs --entity-name <user>.", ExitCodes.Usage);
            }

            var alterations = new List<UserScramCredentialAlteration>();
            foreach (var (mechanism, iterations, password) in ParseAdd(parse.GetValue(addConfig)))
            {
                alterations.Add(new UserScramCredentialUpsertion
                {
                    User = user,
                    ScramCredentialInfo = new ScramCredentialInfo { Mechanism = mechanism, Iterations = iterations },
                    Password = Encoding.UTF8.GetBytes(password),
                });
            }

            foreach (var mechanism in ParseDelete(parse.GetValue(deleteConfig)))
            {
                alterations.Add(new UserScramCredentialDeletion { User = user, Mechanism = mechanism });
            }

            if (alterations.Count == 0)
            {
                throw new CliException("--alter needs --add-config 'SCRAM-SHA-256=[iterations=8192,password=...]' or --delete-config SCRAM-SHA-256.", ExitCodes.Usage);
            }

            try
            {
                await admin.AlterUserScramCredentialsAsync(alterations, new AlterUserScramCredentialsOptions { RequestTimeout = Cluster.RequestTimeout });
            }
            catch (AlterUserScramCredentialsException e)
            {
                var failed = e.Results.First(r => r.Error.IsError);
                throw new CliException($"Changing the SCRAM credentials of '{failed.User}' failed: {failed.Error.Reason}", ExitCodes.Failed);
            }

            await io.Out.WriteLineAsync($"Completed updating config for user {Markup.Escape(user)}.");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Name(ScramMechanism mechanism) => mechanism == ScramMechanism.ScramSha512 ? "SCRAM-SHA-512" : "SCRAM-SHA-256";

    private static ScramMechanism Mechanism(string name) => name.Trim().ToUpperInvariant() switch
    {
        "SCRAM-SHA-256" => ScramMechanism.ScramSha256,
        "SCRAM-SHA-512" => ScramMechanism.ScramSha512,
        _ => throw new CliException($"Unknown SCRAM mechanism '{name.Trim()}': use SCRAM-SHA-256 or SCRAM-SHA-512.", ExitCodes.Usage),
    };

    /// <summary>kafka-configs' form: <c>SCRAM-SHA-256=[iterations=8192,password=alice-secret],SCRAM-SHA-512=[password=x]</c>;
    /// iterations default to 4096, as Kafka's tool does.</summary>
    internal static IEnumerable<(ScramMechanism Mechanism, int Iterations, string Password)> ParseAdd(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            yield break;
        }

        var matches = AddPattern().Matches(value);
        if (matches.Count == 0 || AddPattern().Replace(value, string.Empty).Trim().Length != 0)
        {
            throw new CliException($"--add-config '{value}' is not of the form SCRAM-SHA-256=[iterations=8192,password=...].", ExitCodes.Usage);
        }

        foreach (Match match in matches)
        {
            var mechanism = Mechanism(match.Groups["mechanism"].Value);
            int iterations = 4096;
            string? password = null;
            foreach (var pair in match.Groups["settings"].Value.Split(',', StringSplitOptions.TrimEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                var (key, setting) = equals < 0 ? (pair, string.Empty) : (pair[..equals], pair[(equals + 1)..]);
                switch (key)
                {
                    case "iterations" when int.TryParse(setting, NumberStyles.None, CultureInfo.InvariantCulture, out var n):
                        iterations = n;
                        break;
                    case "password" when setting.Length > 0:
                        password = setting;
                        break;
                    default:
                        throw new CliException($"--add-config: '{pair}' is neither iterations=<number> nor password=<password>.", ExitCodes.Usage);
                }
            }

            yield return (mechanism, iterations, password ?? throw new CliException($"--add-config: {Name(mechanism)} needs password=<password>.", ExitCodes.Usage));
        }
    }

    private static IEnumerable<ScramMechanism> ParseDelete(string? value) =>
        string.IsNullOrWhiteSpace(value) ? [] : value.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Mechanism);

    [GeneratedRegex(@"(?<mechanism>SCRAM-SHA-\d+)\s*=\s*\[(?<settings>[^\]]*)\]\s*,?", RegexOptions.IgnoreCase)]
    private static partial Regex AddPattern();
}
