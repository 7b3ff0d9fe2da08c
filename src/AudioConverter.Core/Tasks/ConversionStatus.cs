namespace AudioConverter.Core.Tasks;

/// <summary>The life of a task: uploaded → processing → processed or failed.</summary>
public enum ConversionStatus
{
    Uploaded = 0,
    Processing = 1,
    Processed = 2,
    Failed = 3,
}
