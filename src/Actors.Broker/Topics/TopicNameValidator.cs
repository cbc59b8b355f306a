namespace Actors.Broker.Topics;

/// <summary>Kafka's rules for topic names: ASCII letters, digits, '.', '_' and '-'; 1 to 249 characters; not "." or "..".</summary>
public static class TopicNameValidator
{
    /// <summary>The longest legal name (Kafka's: 255 minus room for a partition suffix and ".deleted").</summary>
    public const int MaxNameLength = 249;

    /// <summary>Throws INVALID_TOPIC_EXCEPTION naming what is wrong with <paramref name="name"/>.</summary>
    public static void Validate(string? name)
    {
        var problem = Check(name);
        if (problem is not null)
        {
            throw new BrokerException(ErrorCode.InvalidTopicException, problem);
        }
    }

    /// <summary>Null when <paramref name="name"/> is legal, else why it is not.</summary>
    public static string? Check(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "Topic name is illegal: it is empty.";
        }

        if (name is "." or "..")
        {
            return $"Topic name '{name}' is illegal: it cannot be '.' or '..'.";
        }

        if (name.Length > MaxNameLength)
        {
            return $"Topic name is illegal: it is {name.Length} characters long and the limit is {MaxNameLength}.";
        }

        foreach (var c in name)
        {
            if (!IsLegal(c))
            {
                return $"Topic name '{name}' is illegal: it contains '{c}' (U+{(int)c:X4}); only ASCII letters, digits, '.', '_' and '-' are allowed.";
            }
        }

        return null;
    }

    /// <summary>True when the two names differ only by '.' versus '_', which collide in metric names (Kafka refuses the second).</summary>
    public static bool Collides(string a, string b) =>
        !string.Equals(a, b, StringComparison.Ordinal)
        && string.Equals(a.Replace('.', '_'), b.Replace('.', '_'), StringComparison.Ordinal);

    private static bool IsLegal(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or '-';
}
