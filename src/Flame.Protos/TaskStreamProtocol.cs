namespace Flame.V1;

/// <summary>
/// How a service tells an executor manager that it serves <c>flame.v1.InstanceExt.InvokeTasks</c>, before any task is
/// sent (protos/flame/v1/ext.proto): it sends its response headers as soon as the stream opens, with
/// <see cref="Header"/> set to <see cref="Value"/>. A service without the extension answers UNIMPLEMENTED instead,
/// and never with this header.
/// </summary>
public static class TaskStreamProtocol
{
    /// <summary>The response header that a service serving the task stream sends when the stream opens.</summary>
    public const string Header = "flame-task-stream";

    /// <summary>Its value: the version of the stream's contract.</summary>
    public const string Value = "1";
}
