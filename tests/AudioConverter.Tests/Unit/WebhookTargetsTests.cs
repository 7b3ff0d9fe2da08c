using System.Net;
using AudioConverter.Infrastructure.Notifications;
using StandardWebhooks;

namespace AudioConverter.Tests.Unit;

public sealed class WebhookTargetsTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.8.9.10")]
    [InlineData("10.0.0.1")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("fe80::1")]
    [InlineData("fd00:ec2::254")]
    [InlineData("fc00::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:10.0.0.1")]
    public void LoopbackPrivateLinkLocalAndMetadataAddressesAreForbidden(string address) =>
        Assert.True(WebhookTargets.IsForbidden(IPAddress.Parse(address)));

    [Theory]
    [InlineData("93.184.215.14")]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("2606:4700::1111")]
    public void PublicAddressesAreAllowed(string address) =>
        Assert.False(WebhookTargets.IsForbidden(IPAddress.Parse(address)));

    [Theory]
    [InlineData("https://example.com/hook", null)]
    [InlineData("http://example.com:8080/a?b=c", null)]
    [InlineData("gopher://example.com/", "must use http or https")]
    [InlineData("https://a:b@example.com/", "must not carry a user name or password")]
    [InlineData("https://example.com/#frag", "must not have a #fragment")]
    [InlineData("example.com/hook", "is not an absolute URL")]
    public void TheShapeOfAUrlIsCheckedWithoutTheNetwork(string url, string? expected)
    {
        var problem = WebhookTargets.ShapeProblem(url);
        if (expected is null)
        {
            Assert.Null(problem);
        }
        else
        {
            Assert.Contains(expected, problem, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TheSignatureIsTheOneTheStandardWebhooksLibraryComputes()
    {
        var secret = WebhookSignature.NewSecret();
        var at = DateTimeOffset.FromUnixTimeSeconds(1_764_000_000);
        const string body = "{\"type\":\"task.processed\",\"timestamp\":\"2026-12-01T12:00:00Z\",\"data\":{\"id\":1}}";

        var ours = WebhookSignature.Sign(secret, "msg_1", at.ToUnixTimeSeconds(), body);
        var theirs = new StandardWebhook(secret).Sign("msg_1", at, body);

        Assert.Equal(theirs, ours);
        Assert.StartsWith("v1,", ours, StringComparison.Ordinal);
    }
}
