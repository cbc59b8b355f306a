namespace Actors.Broker.Hosting;

/// <summary>
/// Reads the ETag a grain storage holds for one grain state without reading the state, registered as a keyed
/// service under the name of the grain storage it reads (Orleans' <see cref="global::Orleans.Storage.IGrainStorage"/>
/// offers no such read). A grain that still holds the ETag of its own last read or write learns from it, cheaply,
/// that no other activation has written since. Optional: without one, grains read the whole record.
/// </summary>
public interface IGrainStateETags
{
    /// <summary>The stored ETag of state <paramref name="stateName"/> of <paramref name="grainId"/>, or null when
    /// nothing is stored; the value a full read would set as the state's ETag.</summary>
    Task<string?> ReadETagAsync(string stateName, GrainId grainId, CancellationToken cancellationToken);
}
