namespace AudioConverter.Infrastructure;

/// <summary>An adapter that must reach its server (and may create its bucket, queue or topic) before the process serves.</summary>
public interface IBackendSetup
{
    /// <summary>The setting a person should check when the backend does not answer, e.g. Queue:RabbitMq:Uri.</summary>
    string SettingName { get; }

    Task SetUpAsync(CancellationToken cancellationToken);
}
