namespace Actors;

/// <summary>Anything that can be addressed by a <see cref="GrainId"/>: grains and their references.</summary>
public interface IAddressable
{
}

/// <summary>Marker for grain interfaces. A grain interface declares only methods returning
/// <see cref="Task"/>, <see cref="Task{T}"/>, <see cref="ValueTask"/> or <see cref="ValueTask{T}"/>;
/// a trailing <see cref="CancellationToken"/> parameter is carried across silos.</summary>
public interface IGrain : IAddressable
{
}

/// <summary>A grain addressed by a string key (the default for Actors).</summary>
public interface IGrainWithStringKey : IGrain
{
}

/// <summary>A grain addressed by a 64-bit integer key (stored as its invariant decimal string).</summary>
public interface IGrainWithIntegerKey : IGrain
{
}

/// <summary>A grain addressed by a Guid key (stored as its "D" string).</summary>
public interface IGrainWithGuidKey : IGrain
{
}
