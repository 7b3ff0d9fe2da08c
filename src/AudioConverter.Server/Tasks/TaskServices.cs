using AudioConverter.Core.Storage;
using AudioConverter.Infrastructure.Data;

namespace AudioConverter.Server.Tasks;

/// <summary>What the task handlers that write work with, taken as one <c>[AsParameters]</c> argument.</summary>
public sealed record TaskServices(AppDbContext Db, IBlobStore Blobs, TaskTransitions Transitions, TaskPublisher Publisher, TimeProvider Clock);
