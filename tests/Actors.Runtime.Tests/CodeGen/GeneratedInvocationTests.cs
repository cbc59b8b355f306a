using System.Buffers;
using System.Text;
using Actors.Invocation;
using Actors.Membership;
using Actors.Serialization;

namespace Actors.Runtime.Tests.CodeGen;

public sealed class GeneratedInvocationTests
{
    private static uint Fnv1a(string text)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = unchecked((hash ^ b) * 16777619u);
        }

        return hash;
    }

    private static GrainInterfaceDescriptor Descriptor<T>()
    {
        Assert.True(GeneratedCodeRegistry.TryGetInterface(typeof(T), out var descriptor), $"{typeof(T).Name} is registered");
        return descriptor;
    }

    [Fact]
    public void Interface_ids_hash_the_full_name_or_the_alias()
    {
        Assert.Equal(Fnv1a("Actors.Runtime.Tests.CodeGen.ICalculatorGrain"), Descriptor<ICalculatorGrain>().InterfaceId);
        Assert.Equal(Fnv1a("Actors.Runtime.Tests.CodeGen.ICalculatorBase"), Descriptor<ICalculatorBase>().InterfaceId);
        Assert.Equal(Fnv1a("calc-alias"), Descriptor<IAliasedGrain>().InterfaceId);
        Assert.True(GeneratedCodeRegistry.TryGetInterface(Fnv1a("calc-alias"), out var byId));
        Assert.Equal(typeof(IAliasedGrain), byId.InterfaceType);
    }

    [Fact]
    public void The_loader_initializes_assemblies_that_use_actors_and_unknown_ids_miss()
    {
        GeneratedCodeLoader.EnsureLoaded();
        GeneratedCodeLoader.EnsureLoaded();
        Assert.Contains(GeneratedCodeRegistry.Interfaces, d => d.InterfaceType == typeof(ICalculatorGrain));
        Assert.False(GeneratedCodeRegistry.TryGetInterface(0xdeadbeefu, out _));
        Assert.False(GeneratedCodeRegistry.TryGetInterface(typeof(IGreeter), out _));
    }

    [Fact]
    public void Invokables_carry_ids_flags_and_immutability()
    {
        var d = Descriptor<ICalculatorGrain>();
        var echo = d.CreateInvokable(0)!;
        Assert.Equal("Echo", echo.MethodName);
        Assert.Equal("ICalculatorGrain", echo.InterfaceName);
        Assert.Equal(d.InterfaceId, echo.InterfaceId);
        Assert.Equal(InvokeFlags.None, echo.Flags);
        Assert.True(echo.ArgumentsAreImmutable);
        Assert.True(echo.ResultIsImmutable);
        Assert.False(echo.AcceptsCancellation);

        var reverse = d.CreateInvokable(1)!;
        Assert.Equal("Reverse", reverse.MethodName);
        Assert.False(reverse.ArgumentsAreImmutable);
        Assert.False(reverse.ResultIsImmutable);

        var payload = d.CreateInvokable(2)!;
        Assert.True(payload.ArgumentsAreImmutable);

        var store = d.CreateInvokable(4)!;
        Assert.True(store.AcceptsCancellation);
        Assert.Equal(InvokeFlags.OneWay, d.CreateInvokable(5)!.Flags);
        Assert.Equal(InvokeFlags.ReadOnly, d.CreateInvokable(6)!.Flags);
        Assert.Equal(InvokeFlags.AlwaysInterleave, d.CreateInvokable(7)!.Flags);
        Assert.False(d.CreateInvokable(8)!.ArgumentsAreImmutable);
        Assert.True(d.CreateInvokable(9)!.ResultIsImmutable);
        Assert.Null(d.CreateInvokable(10));

        // An inherited method belongs to its declaring interface.
        var add = Descriptor<ICalculatorBase>().CreateInvokable(0)!;
        Assert.Equal("Add", add.MethodName);
        Assert.Equal(Descriptor<ICalculatorBase>().InterfaceId, add.InterfaceId);
        Assert.IsType(add.GetType(), add.CreateEmpty());
    }

    [Fact]
    public async Task An_invokable_created_through_the_registry_calls_the_object_and_round_trips_its_result()
    {
        var d = Descriptor<ICalculatorGrain>();
        var echo = (GrainInvokable<string>)d.CreateInvokable(0)!;
        echo.GetType().GetField("Arg0")!.SetValue(echo, "abc");

        // Arguments cross a serialization boundary into a second invokable.
        var args = new ArrayBufferWriter<byte>();
        var writer = new ActorWriter(args);
        echo.WriteArguments(ref writer);
        var target = (GrainInvokable<string>)echo.CreateEmpty();
        var reader = new ActorReader(args.WrittenSpan);
        target.ReadArguments(ref reader);

        var grain = new PlainCalculator();
        await target.InvokeAsync(grain);
        Assert.Equal("echo:abc", target.Result);

        var result = new ArrayBufferWriter<byte>();
        writer = new ActorWriter(result);
        target.WriteResult(ref writer);
        reader = new ActorReader(result.WrittenSpan);
        echo.ReadResult(ref reader);
        Assert.Equal("echo:abc", echo.Result);
    }

    [Fact]
    public async Task Proxies_serialize_every_call_and_return_the_grain_results()
    {
        var runtime = new LoopbackCallRuntime();
        var id = new GrainId("calculator", "one");
        var grain = new PlainCalculator();
        runtime.Add(id, grain);
        var proxy = runtime.GetGrain<ICalculatorGrain>(id);

        Assert.Equal(7, await proxy.Add(3, 4));
        Assert.Equal("echo:x", await proxy.Echo("x"));
        Assert.Equal(new byte[] { 3, 2, 1 }, await proxy.Reverse([1, 2, 3]));
        Assert.Equal(new byte[] { 9, 8 }, (await proxy.Payload(new byte[] { 9, 8 })).ToArray());
        using var cts = new CancellationTokenSource();
        await proxy.Store(42, cts.Token);
        Assert.Equal(cts.Token, grain.LastToken);
        Assert.Equal(42, await proxy.Current());
        Assert.Equal(10, await proxy.Delayed(5, cts.Token));
        await proxy.Reset();
        Assert.Equal(0, await proxy.Current());
        Assert.Equal(["A", "B"], await proxy.Names(["a", "b"]));

        await proxy.Notify("fire");
        Assert.Equal(["fire"], grain.Notes);
        Assert.Single(runtime.OneWayCalls);
        Assert.Equal(InvokeFlags.OneWay, runtime.OneWayCalls[0].Flags);
        Assert.Equal(11, runtime.Calls);

        var reference = (GrainReference)proxy;
        Assert.Equal(id, reference.GrainId);
        Assert.Equal(typeof(ICalculatorGrain), reference.InterfaceType);
        Assert.Equal(Descriptor<ICalculatorGrain>().InterfaceId, reference.InterfaceId);
    }

    [Fact]
    public void Grain_references_serialize_as_id_and_interface_and_read_back_as_proxies()
    {
        var runtime = new LoopbackCallRuntime();
        var id = new GrainId("calculator", "ref");
        var proxy = runtime.GetGrain<ICalculatorGrain>(id);
        var bytes = ActorSerializer.SerializeToArray(proxy);

        var outside = Assert.Throws<SerializationException>(() => ActorSerializer.Deserialize<ICalculatorGrain>(bytes));
        Assert.Contains("SerializationContext.Enter", outside.Message, StringComparison.Ordinal);

        using (SerializationContext.Enter(runtime))
        {
            var back = ActorSerializer.Deserialize<ICalculatorGrain>(bytes);
            Assert.Equal(proxy, back);
            Assert.Equal(id, back.GetGrainId());

            // Read through a base interface type: the proxy keeps the wire interface.
            var asBase = ActorSerializer.Deserialize<ICalculatorBase>(bytes);
            Assert.IsAssignableFrom<ICalculatorGrain>(asBase);
        }
    }

    [Fact]
    public void Grain_class_factories_are_registered_with_their_grain_type_and_interfaces()
    {
        var classes = GeneratedCodeRegistry.GrainClasses;
        var calculator = Assert.Single(classes, c => c.GrainClass == typeof(CalculatorGrain));
        Assert.Equal("calculator", calculator.GrainType);
        Assert.Contains(typeof(ICalculatorGrain), calculator.Interfaces);
        Assert.Contains(typeof(ICalculatorBase), calculator.Interfaces);
        var named = Assert.Single(classes, c => c.GrainClass == typeof(NamedGrain));
        Assert.Equal("custom-name", named.GrainType);
        Assert.Equal([typeof(IAliasedGrain)], named.Interfaces);
    }

    [Fact]
    public async Task A_grain_factory_injects_context_factory_and_services()
    {
        var runtime = new LoopbackCallRuntime();
        var context = new TestGrainContext(new GrainId("calculator", "di"), runtime);
        var services = new DictionaryServiceProvider { [typeof(IGreeter)] = new Greeter() };
        var descriptor = Assert.Single(GeneratedCodeRegistry.GrainClasses, c => c.GrainClass == typeof(CalculatorGrain));

        Grain created;
        using (RuntimeContext.EnterActivation(context))
        {
            created = descriptor.Create(context, services);
        }

        var grain = Assert.IsType<CalculatorGrain>(created);
        Assert.Same(context, grain.Context);
        Assert.Same(runtime, grain.Factory);
        Assert.Null(grain.Clock);
        Assert.Equal("hello bob", await ((ICalculatorGrain)grain).Echo("bob"));

        // A missing required service is named in the error.
        using (RuntimeContext.EnterActivation(context))
        {
            var error = Assert.Throws<InvalidOperationException>(() => descriptor.Create(context, new DictionaryServiceProvider()));
            Assert.Contains("IGreeter", error.Message, StringComparison.Ordinal);
            Assert.Contains("greeter", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_grain_factory_resolves_keyed_services_and_defaults_for_optional_parameters()
    {
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddKeyedSingleton<IGreeter>(services, "blue", new ColoredGreeter("blue"));
        using var provider = Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(services);
        var runtime = new LoopbackCallRuntime();
        var context = new TestGrainContext(new GrainId("keyed", "k"), runtime);
        var descriptor = Assert.Single(GeneratedCodeRegistry.GrainClasses, c => c.GrainClass == typeof(KeyedGrain));
        Assert.Equal("keyed", descriptor.GrainType);

        KeyedGrain grain;
        using (RuntimeContext.EnterActivation(context))
        {
            grain = Assert.IsType<KeyedGrain>(descriptor.Create(context, provider));
        }

        Assert.Equal("blue sky", await grain.Greet("sky"));
        Assert.Null(grain.Unused);
        Assert.Equal(3, grain.Retries);

        using var empty = Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(
            new Microsoft.Extensions.DependencyInjection.ServiceCollection());
        using (RuntimeContext.EnterActivation(context))
        {
            var error = Assert.Throws<InvalidOperationException>(() => descriptor.Create(context, empty));
            Assert.Contains("'blue'", error.Message, StringComparison.Ordinal);
        }
    }

    private sealed class DictionaryServiceProvider : Dictionary<Type, object>, IServiceProvider
    {
        public object? GetService(Type serviceType) => TryGetValue(serviceType, out var service) ? service : null;
    }

    private sealed class TestGrainContext(GrainId grainId, IGrainFactory factory) : IGrainContext
    {
        public GrainId GrainId { get; } = grainId;

        public IGrainFactory GrainFactory { get; } = factory;

        public SiloAddress Silo { get; } = new("127.0.0.1", 11111, 1);

        public IServiceProvider ServiceProvider => throw new InvalidOperationException("not used by these tests");

        public List<DeactivationReason> Deactivations { get; } = [];

        public void Deactivate(DeactivationReason reason) => Deactivations.Add(reason);

        public void DelayDeactivation(TimeSpan timeSpan)
        {
        }

        public IGrainTimer RegisterGrainTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period) =>
            throw new InvalidOperationException("not used by these tests");

        public IPersistentState<TState> GetPersistentState<TState>(string stateName, string? storageName)
            where TState : new() => throw new InvalidOperationException("not used by these tests");
    }
}
