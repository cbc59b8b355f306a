using System.Threading;
using Microsoft.CodeAnalysis;

namespace Actors.CodeGen;

internal static class SerializerEmitter
{
    public static GeneratedFile? Build(INamedTypeSymbol type, CancellationToken cancellationToken) => null;
}
