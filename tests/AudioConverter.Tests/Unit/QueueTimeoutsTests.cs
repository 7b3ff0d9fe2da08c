using AudioConverter.Server.Hosting;

namespace AudioConverter.Tests.Unit;

[Trait("Layer", "Unit")]
public sealed class QueueTimeoutsTests
{
    [Theory]
    [InlineData(600, 1800, true)]
    [InlineData(1740, 1800, false)]
    [InlineData(1739, 1800, true)]
    [InlineData(3600, 1800, false)]
    public void TheBrokersConsumerTimeoutMustOutlastAConversion(int conversion, int consumer, bool fits) =>
        Assert.Equal(fits, QueueTimeouts.RabbitMq(TimeSpan.FromSeconds(conversion), TimeSpan.FromSeconds(consumer)) is null);

    [Theory]
    [InlineData(60, 60, true)]
    [InlineData(60, 30, true)]
    [InlineData(60, 29, false)]
    [InlineData(600, 60, false)]
    public void ThePubSubAckDeadlineMustOutlastTheRenewalPeriod(int lease, int ackDeadline, bool fits) =>
        Assert.Equal(fits, QueueTimeouts.PubSub(TimeSpan.FromSeconds(lease), TimeSpan.FromSeconds(ackDeadline)) is null);
}
