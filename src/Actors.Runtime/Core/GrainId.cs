namespace Actors;

/// <summary>
/// The identity of a grain: its grain type (the implementing class's alias, see
/// <see cref="GrainTypeAttribute"/>) and its key. Integer and Guid keys are carried as strings.
/// </summary>
/// <remarks>Immutable. Equality is ordinal on both parts.</remarks>
[Immutable]
public readonly record struct GrainId(string Type, string Key)
{
    public override string ToString() => $"{Type}/{Key}";

    public static GrainId Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
        {
            throw new FormatException($"'{value}' is not a grain id; expected '<type>/<key>'.");
        }

        return new GrainId(value[..slash], value[(slash + 1)..]);
    }
}
