using Microsoft.CodeAnalysis;

namespace Actors.CodeGen;

/// <summary>The errors the generator reports. Ids are stable (ACT0001..).</summary>
internal static class Diagnostics
{
    private const string Category = "Actors.CodeGen";

    public static readonly DiagnosticDescriptor BadReturnType = new(
        "ACT0001",
        "Grain method must return a task",
        "Grain method '{0}' returns '{1}'; grain interface methods must return Task, Task<T>, ValueTask or ValueTask<T>",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor RefParameter = new(
        "ACT0002",
        "Grain method parameters cannot be ref, out or in",
        "Grain method '{0}' has the by-reference parameter '{1}'; grain calls cross processes, so pass values and return results instead",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor GenericMethod = new(
        "ACT0003",
        "Grain methods cannot be generic",
        "Grain method '{0}' is generic; grain interface methods must not have type parameters",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor OneWayWithResult = new(
        "ACT0004",
        "One-way methods return no result",
        "[OneWay] method '{0}' returns '{1}'; a one-way method must return Task or ValueTask (no result)",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnserializableParameter = new(
        "ACT0005",
        "Grain method parameter has no serializer",
        "Parameter '{1}' of grain method '{0}' has type '{2}', which has no serializer: {3}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnserializableMember = new(
        "ACT0006",
        "Serialized member has no serializer",
        "Member '{1}' of [GenerateSerializer] type '{0}' has type '{2}', which has no serializer: {3}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsettableMember = new(
        "ACT0007",
        "Serialized member cannot be set",
        "Member '{1}' of [GenerateSerializer] type '{0}' cannot be set by generated code: {2}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor DuplicateId = new(
        "ACT0008",
        "Duplicate member id",
        "[GenerateSerializer] type '{0}' uses [Id({1})] on both '{2}' and '{3}'; ids must be unique within a type",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor Unsupported = new(
        "ACT0009",
        "Unsupported declaration",
        "'{0}' is not supported by the code generator: {1}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor NoConstructor = new(
        "ACT0010",
        "Type has no usable constructor",
        "'{0}' has no constructor the generated code can call: {1}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor NonMethodMember = new(
        "ACT0011",
        "Grain interfaces declare only methods",
        "Grain interface '{0}' declares the {1} '{2}'; grain interfaces may declare only methods",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor CancellationNotLast = new(
        "ACT0012",
        "CancellationToken must be the last parameter",
        "Grain method '{0}' takes a CancellationToken that is not its last parameter; only a trailing CancellationToken is carried across silos",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);
}
