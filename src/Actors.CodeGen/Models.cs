using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Actors.CodeGen;

/// <summary>An immutable array with value equality, so generator outputs cache across edits.</summary>
internal readonly struct EquatableArray<T> : IEquatable<EquatableArray<T>>, IEnumerable<T>
    where T : IEquatable<T>
{
    private readonly ImmutableArray<T> items;

    public EquatableArray(ImmutableArray<T> items) => this.items = items;

    public ImmutableArray<T> Items => items.IsDefault ? ImmutableArray<T>.Empty : items;

    public bool Equals(EquatableArray<T> other) => Items.SequenceEqual(other.Items);

    public override bool Equals(object? obj) => obj is EquatableArray<T> other && Equals(other);

    public override int GetHashCode()
    {
        var hash = 17;
        foreach (var item in Items)
        {
            hash = unchecked((hash * 31) + item.GetHashCode());
        }

        return hash;
    }

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)Items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A diagnostic's location in a form that compares by value.</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public static LocationInfo? From(ISymbol symbol) => From(symbol.Locations.FirstOrDefault());

    public static LocationInfo? From(Location? location) =>
        location is null || !location.IsInSource
            ? null
            : new LocationInfo(location.SourceTree!.FilePath, location.SourceSpan, location.GetLineSpan().Span);

    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);
}

/// <summary>A diagnostic to report, comparable by value.</summary>
internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, ISymbol? symbol, params string[] arguments) =>
        new(descriptor.Id, symbol is null ? null : LocationInfo.From(symbol), new EquatableArray<string>(arguments.ToImmutableArray()));

    public Diagnostic ToDiagnostic()
    {
        var descriptor = Descriptors.First(d => d.Id == Id);
        return Diagnostic.Create(descriptor, Location?.ToLocation(), Arguments.Cast<object>().ToArray());
    }

    private static readonly DiagnosticDescriptor[] Descriptors =
    [
        Diagnostics.BadReturnType, Diagnostics.RefParameter, Diagnostics.GenericMethod, Diagnostics.OneWayWithResult,
        Diagnostics.UnserializableParameter, Diagnostics.UnserializableMember, Diagnostics.UnsettableMember,
        Diagnostics.DuplicateId, Diagnostics.Unsupported, Diagnostics.NoConstructor, Diagnostics.NonMethodMember,
        Diagnostics.CancellationNotLast,
    ];
}

/// <summary>One generated file (or none) plus the diagnostics found while building it.</summary>
internal sealed record GeneratedFile(string? HintName, string? Source, EquatableArray<DiagnosticInfo> Diagnostics);
