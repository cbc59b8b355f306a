using Actors.Invocation;
using Actors.Serialization;

namespace Actors.Runtime.Tests.CodeGen;

public sealed class LocalCallCopierTests
{
    private static GrainInvokable Create(ushort methodId)
    {
        Assert.True(GeneratedCodeRegistry.TryGetInterface(typeof(ICalculatorGrain), out var descriptor));
        return descriptor.CreateInvokable(methodId)!;
    }

    [Fact]
    public async Task Immutable_arguments_are_handed_over_without_a_copy()
    {
        var runtime = new LoopbackCallRuntime();
        var echo = (GrainInvokable<string>)Create(0);
        echo.GetType().GetField("Arg0")!.SetValue(echo, "same");
        var target = LocalCallCopier.PrepareLocalCall(echo, runtime);
        Assert.Same(echo, target);
        await target.InvokeAsync(new PlainCalculator());
        LocalCallCopier.CompleteLocalCall(echo, target, runtime);
        Assert.Equal("echo:same", echo.Result);
    }

    [Fact]
    public async Task Mutable_arguments_and_results_are_copied_both_ways()
    {
        var runtime = new LoopbackCallRuntime();
        var reverse = (GrainInvokable<byte[]>)Create(1);
        var argument = new byte[] { 1, 2, 3 };
        reverse.GetType().GetField("Arg0")!.SetValue(reverse, argument);
        using var cts = new CancellationTokenSource();
        reverse.CancellationToken = cts.Token;

        var target = (GrainInvokable<byte[]>)LocalCallCopier.PrepareLocalCall(reverse, runtime);
        Assert.NotSame(reverse, target);
        Assert.Equal(cts.Token, target.CancellationToken);
        var copiedArgument = (byte[])target.GetType().GetField("Arg0")!.GetValue(target)!;
        Assert.NotSame(argument, copiedArgument);
        Assert.Equal(argument, copiedArgument);

        await target.InvokeAsync(new PlainCalculator());
        LocalCallCopier.CompleteLocalCall(reverse, target, runtime);
        Assert.Equal(new byte[] { 3, 2, 1 }, reverse.Result);
        Assert.NotSame(target.Result, reverse.Result);
    }
}
