namespace AudioConverter.Core.Tasks;

/// <summary>The life of a task: uploaded → processing → processed or failed; expired once retention removed its files.</summary>
public enum ConversionStatus
{
    Uploaded = 0,
    Processing = 1,
    Processed = 2,
    Failed = 3,
    Expired = 4,
}
