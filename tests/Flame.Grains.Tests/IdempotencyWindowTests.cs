using Flame.Grains.Sessions;
using Flame.Storage;

namespace Flame.Grains.Tests;

public sealed class IdempotencyWindowTests
{
    [Fact]
    public void A_key_seen_before_gives_the_first_task_of_its_call()
    {
        var window = new IdempotencyWindow();
        Assert.False(window.TryGet("k1", 3, 1000, out _));
        window.Remember("k1", 41, 3, 1000);
        Assert.True(window.TryGet("k1", 3, 1001, out var first));
        Assert.Equal(41, first);
        Assert.False(window.TryGet("k2", 3, 1001, out _));
    }

    [Fact]
    public void A_key_reused_for_another_number_of_tasks_is_refused()
    {
        var window = new IdempotencyWindow();
        window.Remember("k1", 1, 3, 0);
        var ex = Assert.Throws<FlameException>(() => window.TryGet("k1", 4, 1, out _));
        Assert.Equal(FlameErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains("3 task(s), not 4", ex.Message);
    }

    [Fact]
    public void A_key_is_forgotten_after_the_retention()
    {
        var window = new IdempotencyWindow(TimeSpan.FromSeconds(10));
        window.Remember("k1", 1, 1, 0);
        Assert.True(window.TryGet("k1", 1, 9_999, out _));
        Assert.False(window.TryGet("k1", 1, 10_000, out _));
        Assert.Equal(0, window.Count);
    }

    [Fact]
    public void The_oldest_keys_go_first_when_the_window_is_full()
    {
        var window = new IdempotencyWindow(capacity: 2);
        window.Remember("a", 1, 1, 0);
        window.Remember("b", 2, 1, 1);
        window.Remember("c", 3, 1, 2);
        Assert.False(window.TryGet("a", 1, 3, out _));
        Assert.True(window.TryGet("b", 1, 3, out _));
        Assert.True(window.TryGet("c", 1, 3, out _));
    }

    [Fact]
    public void A_key_stored_in_its_first_tasks_history_is_remembered_after_a_restore()
    {
        var table = new TaskTable();
        var first = table.Add(null, 100);
        table.Add(null, 100);
        table.Note(first, IdempotencyWindow.Event("batch-7", 2, 100));
        var stored = table.Snapshot(first, withInput: true);

        var restored = new IdempotencyWindow();
        restored.Restore(stored, now: 200);
        Assert.True(restored.TryGet("batch-7", 2, 200, out var id));
        Assert.Equal(first, id);

        var expired = new IdempotencyWindow(TimeSpan.FromMilliseconds(50));
        expired.Restore(stored, now: 200);
        Assert.Equal(0, expired.Count);
    }

    [Fact]
    public void A_restored_task_without_a_key_adds_nothing()
    {
        var window = new IdempotencyWindow();
        window.Restore(new StoredTask { Id = 1, State = 0, CreationTime = 1, History = """[{"code":0,"message":"idempotency key x","creationTime":1}]""" }, 2);
        window.Restore(new StoredTask { Id = 2, State = 0, CreationTime = 1 }, 2);
        Assert.Equal(0, window.Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("new\nline")]
    public void A_malformed_key_is_an_invalid_argument(string key) =>
        Assert.Equal(FlameErrorKind.InvalidArgument, Assert.Throws<FlameException>(() => IdempotencyKey.Validate(key)).Kind);

    [Fact]
    public void A_uuid_is_a_valid_key() =>
        Assert.Equal("0f8fad5b-d9cb-469f-a165-70867728950e", IdempotencyKey.Validate("0f8fad5b-d9cb-469f-a165-70867728950e"));
}
