using AudioConverter.Core.Queue;
using AudioConverter.Infrastructure.Queue;

namespace AudioConverter.Tests.Contracts;

public sealed class InProcessTaskQueueTests : TaskQueueContract
{
    private readonly InProcessTaskQueue queue = new();

    // One channel per test: every client of the test is the same in-process queue.
    protected override Task<ITaskQueue> ConnectAsync() => Task.FromResult<ITaskQueue>(queue);
}
