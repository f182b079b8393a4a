using System.Reflection;
using Flame.SessionManager.Security;
using Microsoft.Extensions.Logging;

namespace Flame.SessionManager.Tests;

/// <summary>
/// Every <c>[LoggerMessage]</c> method of the Flame assemblies the session manager loads, scanned for its event id:
/// an id names one kind of line, so that a log filter or an alert on it catches that line and no other (the ranges
/// of each area are in the README, Logging).
/// </summary>
public sealed class LogEventIdTests
{
    /// <summary>
    /// The range of event ids of each area, by namespace (the README, Logging); the longest matching namespace wins.
    /// Every log method of ours falls in one of them.
    /// </summary>
    private static readonly (string Namespace, int First, int Last)[] Ranges =
    [
        ("Flame.Grains", 1000, 1999),
        ("Flame.SessionManager.Grpc", 2000, 2099),
        ("Flame.SessionManager.Security", 2100, 2199),
        ("Flame.SessionManager.Hosting", 2200, 2299),
        ("Flame.Hosting", 2300, 2399),
        ("Flame.SessionManager.Observability", 2400, 2499),
        ("Flame.Storage", 3000, 3999),
        ("Flame.ExecutorManager", 4000, 4999),
        ("Flame.Client", 5000, 5999),
        ("Flame.Service", 6000, 6999),
        ("Flame.ObjectCache", 7000, 7999),
    ];

    [Fact]
    public void NoTwoLogMethods_ShareAnEventId()
    {
        var shared = LogMethods()
            .GroupBy(m => m.EventId)
            .Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => Name(m.Method)))}")
            .ToList();
        Assert.True(shared.Count == 0, "event ids used by more than one log method:\n" + string.Join("\n", shared));
    }

    [Fact]
    public void EveryLogMethod_HasAnEventIdInTheRangeOfItsArea()
    {
        var methods = LogMethods();
        // The scan does see the gateway, its hosting, the executor manager, the Orleans-side client and the service SDK.
        foreach (var area in (string[])["Flame.SessionManager.Grpc", "Flame.SessionManager.Hosting", "Flame.ExecutorManager", "Flame.Client", "Flame.Service"])
            Assert.Contains(methods, m => Area(m.Method)?.Namespace == area);
        var outside = methods
            .Where(m => m.EventId != AuditLog.EventId)
            .Where(m => Area(m.Method) is not { } area || m.EventId < area.First || m.EventId > area.Last)
            .Select(m => $"{Name(m.Method)}: {m.EventId}")
            .ToList();
        Assert.True(outside.Count == 0, "log methods without an event id in their area's range:\n" + string.Join("\n", outside));
    }

    /// <summary>The log methods of every Flame assembly beside the tests (those the session manager's host loads).</summary>
    private static List<(MethodInfo Method, int EventId)> LogMethods()
    {
        var found = new List<(MethodInfo, int)>();
        // Ours are Flame.*.dll and the programs (flame-session-manager.dll, flame-executor-manager.dll, flmping-service.dll).
        foreach (var file in Directory.GetFiles(AppContext.BaseDirectory, "*.dll"))
        {
            var name = AssemblyName.GetAssemblyName(file);
            var ours = name.Name!.StartsWith("Flame.", StringComparison.Ordinal) || name.Name.StartsWith("flame-", StringComparison.Ordinal)
                || name.Name.StartsWith("flm", StringComparison.Ordinal);
            if (!ours || name.Name.EndsWith(".Tests", StringComparison.Ordinal))
                continue;
            foreach (var type in Types(Assembly.Load(name)))
            {
                foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
                {
                    if (method.GetCustomAttribute<LoggerMessageAttribute>() is { } attribute)
                        found.Add((method, attribute.EventId));
                }
            }
        }
        return found;
    }

    private static IEnumerable<Type> Types(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            return ex.Types.OfType<Type>();
        }
    }

    private static (string Namespace, int First, int Last)? Area(MethodInfo method) =>
        method.DeclaringType?.Namespace is not { } ns
            ? null
            : Ranges.Where(r => ns == r.Namespace || ns.StartsWith(r.Namespace + ".", StringComparison.Ordinal))
                .OrderByDescending(r => r.Namespace.Length)
                .Select(r => ((string, int, int)?)r)
                .FirstOrDefault();

    private static string Name(MethodInfo method) => $"{method.DeclaringType?.FullName}.{method.Name}";
}
