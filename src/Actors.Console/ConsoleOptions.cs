namespace Actors.WebConsole;

/// <summary>The console's settings, bound from "Actors:Console" (flag <c>--console.allow.changes</c>, environment
/// <c>ACTORS_CONSOLE__ALLOWCHANGES</c>).</summary>
public sealed class ConsoleOptions
{
    /// <summary>The configuration section bound to these options.</summary>
    public const string ConfigurationSection = "Actors:Console";

    /// <summary>The setting's name as operators write it (a flag of the silo, <c>--console.allow.changes true</c>).</summary>
    public const string AllowChangesSetting = "console.allow.changes";

    /// <summary>False (the default): the console only reads. True: it creates, grows and deletes topics, resets a
    /// group's offsets and produces test messages.</summary>
    public bool AllowChanges { get; set; }

    /// <summary>How often the silo samples consumer lag and partition end offsets (for the lag chart and messages/s).</summary>
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How far back the lag chart reaches; the ring keeps <see cref="History"/> / <see cref="SampleInterval"/>
    /// samples per group, at most <see cref="MaxSamples"/>.</summary>
    public TimeSpan History { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Bound on samples kept per group.</summary>
    public const int MaxSamples = 3600;

    /// <summary>Bound on the groups whose lag is sampled (the first this many by name).</summary>
    public int MaxSampledGroups { get; set; } = 500;

    /// <summary>Bound on the partitions whose end offsets are sampled for messages/s.</summary>
    public int MaxSampledPartitions { get; set; } = 5000;

    /// <summary>How often the pages ask for fresh figures.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Most records one page of the message browser shows.</summary>
    public const int MaxBrowseRecords = 500;

    /// <summary>Checks the values, naming the setting at fault.</summary>
    /// <exception cref="ArgumentException">A value out of range.</exception>
    public void Validate()
    {
        if (SampleInterval < TimeSpan.FromMilliseconds(100) || SampleInterval > TimeSpan.FromHours(1))
        {
            throw new ArgumentException($"Actors:Console:SampleInterval '{SampleInterval}' must be between 00:00:00.1 and 01:00:00.");
        }

        if (History < SampleInterval || History > TimeSpan.FromDays(7))
        {
            throw new ArgumentException($"Actors:Console:History '{History}' must be at least the sample interval and at most 7 days.");
        }

        if (MaxSampledGroups is < 0 or > 100_000)
        {
            throw new ArgumentException($"Actors:Console:MaxSampledGroups {MaxSampledGroups} must be between 0 and 100000.");
        }

        if (MaxSampledPartitions is < 0 or > 1_000_000)
        {
            throw new ArgumentException($"Actors:Console:MaxSampledPartitions {MaxSampledPartitions} must be between 0 and 1000000.");
        }

        if (RefreshInterval < TimeSpan.FromMilliseconds(200) || RefreshInterval > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentException($"Actors:Console:RefreshInterval '{RefreshInterval}' must be between 00:00:00.2 and 00:10:00.");
        }
    }

    /// <summary>How many samples the lag ring keeps per group.</summary>
    public int SampleCapacity => (int)Math.Clamp(History.Ticks / SampleInterval.Ticks, 2, MaxSamples);
}
