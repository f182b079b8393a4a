using Flame.ExecutorManager.Gateway;
using Flame.ExecutorManager.Hosting;
using Flame.ExecutorManager.Shims;
using Microsoft.Extensions.Logging;

namespace Flame.ExecutorManager.Executors;

/// <summary>What became of the gateway's request for a new executor.</summary>
internal enum ExecutorStartOutcome
{
    /// <summary>A worker runs it now.</summary>
    Started,
    /// <summary>A worker with that id runs already: a repeated request.</summary>
    AlreadyRunning,
    /// <summary>Every slot is taken: the gateway must be told no.</summary>
    Full,
    /// <summary>The node is shutting down.</summary>
    ShuttingDown,
}

/// <summary>
/// The executor workers of this node, keyed by executor id, never more than its slots. As executors end, the
/// directories of ended ones beyond <see cref="FlameExecutorManagerOptions.KeepExecutorDirectories"/> are deleted.
/// </summary>
internal sealed partial class ExecutorRegistry : IDisposable
{
    private readonly Dictionary<string, ExecutorWorker> _workers = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly Func<string, V1.ResourceRequirement, Action<ExecutorWorker>, ExecutorWorker> _create;
    private readonly string _workDirectory;
    private readonly int _keepDirectories;
    private readonly ILogger _logger;
    private int _pruning;
    private bool _stopping;

    public ExecutorRegistry(
        FlameExecutorManagerOptions options, GatewayConnection gateway, NodeGuard guard, ApplicationPackages packages, ILoggerFactory loggerFactory)
    {
        Guard = guard;
        Slots = options.EffectiveSlots;
        var nodeName = options.EffectiveNodeName;
        var logger = loggerFactory.CreateLogger<ExecutorWorker>();
        _create = (id, resreq, ended) => new ExecutorWorker(id, resreq, options, nodeName, gateway, guard, packages, logger, ended);
        _workDirectory = options.WorkDirectory;
        _keepDirectories = options.KeepExecutorDirectories;
        _logger = loggerFactory.CreateLogger<ExecutorRegistry>();
    }

    /// <summary>Deletes the directories of ended executors beyond the number kept; one pass at a time, off the caller's thread.</summary>
    public void PruneDirectories()
    {
        if (Interlocked.Exchange(ref _pruning, 1) != 0)
            return; // the running pass sees this executor's end too, or the next end prunes it
        _ = Task.Run(() =>
        {
            try
            {
                var deleted = ExecutorDirectories.Prune(_workDirectory, _keepDirectories, ExecutorIds,
                    (path, ex) => LogPruneFailed(path, ex.Message));
                if (deleted > 0)
                    LogPruned(deleted, _keepDirectories);
            }
            finally
            {
                Volatile.Write(ref _pruning, 0);
            }
        });
    }

    /// <summary>What this node allows its services (commands, working directories, inherited variables).</summary>
    public NodeGuard Guard { get; }

    /// <summary>How many executors may run at once.</summary>
    public int Slots { get; }

    /// <summary>How many executors run now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
                return _workers.Count;
        }
    }

    /// <summary>The ids of the executors that run now.</summary>
    public IReadOnlyList<string> ExecutorIds
    {
        get
        {
            lock (_lock)
                return [.. _workers.Keys];
        }
    }

    /// <summary>The executors that run now, with the resources each was ordered with.</summary>
    public IReadOnlyList<(string Id, V1.ResourceRequirement Resreq)> Executors
    {
        get
        {
            lock (_lock)
                return [.. _workers.Values.Select(w => (w.ExecutorId, w.Resreq))];
        }
    }

    /// <summary>
    /// Starts a worker for <paramref name="executorId"/> if a slot is free. It registers with
    /// <paramref name="resreq"/>, what the gateway ordered it with (its session's resource requirement), so that the
    /// gateway places the session's work on it; one core and no memory if the order named none.
    /// </summary>
    public ExecutorStartOutcome TryStart(string executorId, V1.ResourceRequirement? resreq)
    {
        ExecutorWorker worker;
        lock (_lock)
        {
            if (_stopping)
                return ExecutorStartOutcome.ShuttingDown;
            if (_workers.ContainsKey(executorId))
                return ExecutorStartOutcome.AlreadyRunning;
            if (_workers.Count >= Slots)
                return ExecutorStartOutcome.Full;
            worker = _create(executorId, resreq?.Clone() ?? new V1.ResourceRequirement { Cpu = 1 }, OnEnded);
            _workers.Add(executorId, worker);
        }
        _ = worker.StartAsync(CancellationToken.None);
        return ExecutorStartOutcome.Started;
    }

    /// <summary>Asks the worker of <paramref name="executorId"/> to end; false if there is none.</summary>
    public bool Release(string executorId)
    {
        ExecutorWorker? worker;
        lock (_lock)
            _workers.TryGetValue(executorId, out worker);
        worker?.RequestRelease();
        return worker is not null;
    }

    /// <summary>Stops every worker (each ends its binding, stops its service and unregisters) and takes no new ones.</summary>
    public async Task StopAllAsync(CancellationToken cancellationToken)
    {
        ExecutorWorker[] workers;
        lock (_lock)
        {
            _stopping = true;
            workers = [.. _workers.Values];
        }
        await Task.WhenAll(workers.Select(w => w.StopAsync(cancellationToken))).ConfigureAwait(false);
    }

    /// <summary>Kills every service process still running.</summary>
    public void Dispose()
    {
        ExecutorWorker[] workers;
        lock (_lock)
        {
            _stopping = true;
            workers = [.. _workers.Values];
        }
        foreach (var worker in workers)
            worker.Dispose();
    }

    private void OnEnded(ExecutorWorker worker)
    {
        lock (_lock)
        {
            if (_workers.TryGetValue(worker.ExecutorId, out var current) && ReferenceEquals(current, worker))
                _workers.Remove(worker.ExecutorId);
        }
        PruneDirectories();
    }
}
