namespace Actors.Kafka.Protocol;

/// <summary>Kafka's API keys (the first int16 of every request) that this layer has codecs for. The numbers
/// are Kafka's and never change.</summary>
public enum ApiKey : short
{
    Metadata = 3,
    ApiVersions = 18,
}
