using AudioConverter.Infrastructure.Queue;
using Microsoft.Extensions.Options;

namespace AudioConverter.Server.Hosting;

/// <summary>
/// The in-process queue lives in one process: with split roles every task would wait for a sweeper that never sees
/// it. An API that deliberately converts nothing (a read-only front, a test) says so with Queue:InProcessWithoutWorker.
/// </summary>
public sealed class SplitRolesNeedASharedQueue(HostingOptions roles) : IValidateOptions<QueueOptions>
{
    public ValidateOptionsResult Validate(string? name, QueueOptions options) =>
        roles.RunsBoth || !options.IsInProcess || (roles.RunsApi && options.InProcessWithoutWorker)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Role '{roles.Role}' needs a shared queue: the in-process queue (Queue:Provider InProcess) only works with --role both; set Queue:Provider to RabbitMq or PubSub.");
}
