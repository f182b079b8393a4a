namespace Flame.Cli.Control;

// What `-o json` and `-o yaml` print: one typed class per object, serialized as it is by System.Text.Json and by
// YamlDotNet (keys are the properties in camelCase, in the order declared here). A property of a dictionary type
// keeps its keys as given (environment variable names).

/// <summary>A session, as printed by <c>view -s ID -o json|yaml</c>.</summary>
public sealed record SessionDocument(
    string Id, string State, string Application, uint Priority, ResourcesDocument? Resreq, uint MinInstances, uint? MaxInstances,
    uint BatchSize, int CommonDataSize, string? CommonData, string CreationTime, string? CompletionTime, TaskCountsDocument Tasks,
    IReadOnlyList<EventDocument> Events);

/// <summary>A session's tasks by state.</summary>
public sealed record TaskCountsDocument(int Pending, int Running, int Succeed, int Failed, int Cancelled);

/// <summary>An application, as printed by <c>view -a NAME -o json|yaml</c>.</summary>
public sealed record ApplicationDocument(
    string Name, string State, string Shim, string? Image, string? Url, string? Installer, string? Description,
    IReadOnlyList<string> Labels, string? Command, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environments,
    string? WorkingDirectory, uint? MaxInstances, long? DelayRelease, SchemaDocument? Schema, string CreationTime);

/// <summary>An application's JSON Schema documents, each as a string.</summary>
public sealed record SchemaDocument(string? Input, string? Output, string? CommonData);

/// <summary>A task, as printed by <c>view -t SESSION/TASK -o json|yaml</c>.</summary>
public sealed record TaskDocument(
    long Id, string SessionId, string State, string CreationTime, string? CompletionTime, int InputSize, string? Input,
    int OutputSize, string? Output, string? OutputText, IReadOnlyList<EventDocument> Events);

/// <summary>A node, as printed by <c>view -n NAME -o json|yaml</c>.</summary>
public sealed record NodeDocument(
    string Name, string Hostname, string State, string Arch, string Os, ResourcesDocument Capacity, ResourcesDocument Allocatable,
    IReadOnlyList<AddressDocument> Addresses, string? LastHeartbeatTime);

/// <summary>One of a node's addresses.</summary>
public sealed record AddressDocument(string Type, string Address);

/// <summary>Resources: cpu in cores, memory in bytes, gpu devices.</summary>
public sealed record ResourcesDocument(ulong Cpu, ulong Memory, int Gpu);

/// <summary>One event of a session or task.</summary>
public sealed record EventDocument(int Code, string Name, string Time, string? Message);

/// <summary>The cluster's health, as printed by <c>health -o json|yaml</c>.</summary>
public sealed record HealthDocument(
    bool Healthy, IReadOnlyList<GatewayDocument> Gateways, string ClusterId, string ServiceId, string Membership,
    IReadOnlyList<SiloDocument> Silos, int NodesReady, int NodesNotReady, int Executors, int ExecutorsBound, int SessionsOpen);

/// <summary>One gateway's answer to the gRPC health check.</summary>
public sealed record GatewayDocument(string Endpoint, string Health, string? Error);

/// <summary>One silo of the cluster's membership.</summary>
public sealed record SiloDocument(string Name, string Address, string Status, string? StartTime, bool IsLocal);
