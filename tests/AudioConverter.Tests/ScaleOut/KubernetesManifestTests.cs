using k8s;
using k8s.Models;
using AudioConverter.Infrastructure.Queue;
using AudioConverter.Server.Worker;
using YamlDotNet.Core;

namespace AudioConverter.Tests.ScaleOut;

/// <summary>
/// There is no cluster here, so deploy/kubernetes is checked with KubernetesClient's typed models: every document
/// deserializes strictly (an unknown or misspelt field fails) into the model of its apiVersion and kind, KEDA's
/// resources into models of the fields of their CRDs used here. Then what the files promise is checked on the models.
/// </summary>
public sealed class KubernetesManifestTests
{
    private static readonly Dictionary<string, Type> KedaTypes = new()
    {
        ["keda.sh/v1alpha1/ScaledObject"] = typeof(ScaledObject),
        ["keda.sh/v1alpha1/TriggerAuthentication"] = typeof(TriggerAuthentication),
    };

    private static readonly string[] ManifestFiles = ["namespace.yaml", "configmap.yaml", "secret.yaml", "api.yaml", "worker.yaml", "keda-rabbitmq.yaml", "keda-pubsub.yaml"];

    public static TheoryData<string> Manifests => new(ManifestFiles);

    [Theory]
    [MemberData(nameof(Manifests))]
    public void EveryManifestDeserializesStrictlyIntoItsTypedModel(string file)
    {
        var objects = Load(file);
        Assert.NotEmpty(objects);
        Assert.All(objects, o => Assert.False(string.IsNullOrEmpty(((IKubernetesObject<V1ObjectMeta>)o).Metadata?.Name), $"{file}: every object needs a name"));
    }

    [Fact]
    public void TheStrictCheckRejectsAMisspeltField()
    {
        var text = File.ReadAllText(Path.Combine(Folder, "api.yaml")).Replace("readinessProbe:", "readynessProbe:", StringComparison.Ordinal);
        Assert.Throws<YamlException>(() => KubernetesYaml.LoadAllFromString(text, KedaTypes, strict: true));
    }

    [Fact]
    public void TheKustomizationListsTheManifestsAndChoosesOneScaler()
    {
        var kustomization = KubernetesYaml.Deserialize<Kustomization>(File.ReadAllText(Path.Combine(Folder, "kustomization.yaml")), strict: true);
        Assert.Equal("kustomize.config.k8s.io/v1beta1", kustomization.ApiVersion);
        Assert.Equal(ManifestFiles.Where(f => f != "keda-pubsub.yaml"), kustomization.Resources);
        Assert.All(kustomization.Resources, r => Assert.True(File.Exists(Path.Combine(Folder, r)), $"{r} is listed but missing"));
        Assert.Equal(ManifestFiles.Order(), Directory.GetFiles(Folder, "*.yaml").Select(Path.GetFileName).Where(f => f != "kustomization.yaml").Order());
    }

    [Fact]
    public void TheApiIsProbedOnTheHealthRoutesServedAndScaledOnCpu()
    {
        var objects = Load("api.yaml");
        var deployment = objects.OfType<V1Deployment>().Single();
        var container = deployment.Spec.Template.Spec.Containers.Single();
        Assert.Equal("/health/ready", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("/health/live", container.LivenessProbe.HttpGet.Path);
        Assert.Equal("api", container.Env.Single(e => e.Name == "Role").Value);
        var port = container.Ports.Single();
        Assert.Equal(8080, port.ContainerPort);

        var service = objects.OfType<V1Service>().Single();
        Assert.Equal(deployment.Spec.Selector.MatchLabels, service.Spec.Selector);
        Assert.Equal(port.Name, service.Spec.Ports.Single().TargetPort.Value);

        var autoscaler = objects.OfType<V2HorizontalPodAutoscaler>().Single();
        Assert.Equal(deployment.Metadata.Name, autoscaler.Spec.ScaleTargetRef.Name);
        Assert.Equal("cpu", autoscaler.Spec.Metrics.Single().Resource.Name);
        Assert.NotNull(container.Resources.Requests["cpu"]);
    }

    [Fact]
    public void TheWorkerOutlivesItsConversionGraceAndScalesOnTheQueue()
    {
        var config = new Dictionary<string, string>(Load("configmap.yaml").OfType<V1ConfigMap>().Single().Data);
        var secret = Load("secret.yaml").OfType<V1Secret>().Single();
        var deployment = Load("worker.yaml").OfType<V1Deployment>().Single();
        var pod = deployment.Spec.Template.Spec;
        Assert.Equal("worker", pod.Containers.Single().Env.Single(e => e.Name == "Role").Value);

        // The host waits the grace plus 10 s (AudioConverterHost); the kubelet must wait longer before SIGKILL.
        var grace = config.TryGetValue("Worker__ShutdownGraceSeconds", out var text) ? int.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : new WorkerOptions().ShutdownGraceSeconds;
        Assert.True(pod.TerminationGracePeriodSeconds > grace + 10, $"terminationGracePeriodSeconds {pod.TerminationGracePeriodSeconds} must exceed the conversion grace {grace} s plus 10 s");

        var rabbit = Load("keda-rabbitmq.yaml");
        var scaled = rabbit.OfType<ScaledObject>().Single();
        Assert.Equal(deployment.Metadata.Name, scaled.Spec.ScaleTargetRef.Name);
        var trigger = scaled.Spec.Triggers.Single();
        Assert.Equal("rabbitmq", trigger.Type);
        Assert.Equal(config.GetValueOrDefault("Queue__RabbitMq__QueueName", new RabbitMqOptions().QueueName), trigger.Metadata["queueName"]);
        Assert.Equal("QueueLength", trigger.Metadata["mode"]);
        var auth = rabbit.OfType<TriggerAuthentication>().Single();
        Assert.Equal(auth.Metadata.Name, trigger.AuthenticationRef.Name);
        var host = auth.Spec.SecretTargetRef!.Single();
        Assert.Equal(secret.Metadata.Name, host.Name);
        Assert.Contains(host.Key, secret.StringData.Keys);

        var pubsub = Load("keda-pubsub.yaml").OfType<ScaledObject>().Single();
        Assert.Equal(deployment.Metadata.Name, pubsub.Spec.ScaleTargetRef.Name);
        Assert.Equal("gcp-pubsub", pubsub.Spec.Triggers.Single().Type);
        Assert.Equal(config.GetValueOrDefault("Queue__PubSub__Subscription", new PubSubOptions().Subscription), pubsub.Spec.Triggers.Single().Metadata["subscriptionName"]);
    }

    [Fact]
    public void ConfigurationComesFromOneConfigMapAndOneSecret()
    {
        var config = Load("configmap.yaml").OfType<V1ConfigMap>().Single();
        var secret = Load("secret.yaml").OfType<V1Secret>().Single();
        Assert.Empty(config.Data.Keys.Intersect(secret.StringData.Keys));
        foreach (var file in new[] { "api.yaml", "worker.yaml" })
        {
            var container = Load(file).OfType<V1Deployment>().Single().Spec.Template.Spec.Containers.Single();
            Assert.Equal(config.Metadata.Name, container.EnvFrom.Select(e => e.ConfigMapRef?.Name).Single(n => n is not null));
            Assert.Equal(secret.Metadata.Name, container.EnvFrom.Select(e => e.SecretRef?.Name).Single(n => n is not null));

            // Only what differs between the roles is set on the container itself.
            Assert.Equal(["Database__MigrateOnStart", "Role"], container.Env.Select(e => e.Name).Order());
        }
    }

    private static List<object> Load(string file) => KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(Folder, file)), KedaTypes, strict: true);

    private static string Folder => Path.Combine(Fixtures.ServerProcess.RepositoryRoot(), "deploy", "kubernetes");

    // The fields of KEDA's CRDs (keda.sh/v1alpha1) these files use; anything else fails the strict load.
    public sealed class ScaledObject : IKubernetesObject<V1ObjectMeta>
    {
        public string ApiVersion { get; set; } = "";
        public string Kind { get; set; } = "";
        public V1ObjectMeta Metadata { get; set; } = new();
        public ScaledObjectSpec Spec { get; set; } = new();
    }

    public sealed class ScaledObjectSpec
    {
        public ScaleTarget ScaleTargetRef { get; set; } = new();
        public int? MinReplicaCount { get; set; }
        public int? MaxReplicaCount { get; set; }
        public int? PollingInterval { get; set; }
        public int? CooldownPeriod { get; set; }
        public List<ScaleTrigger> Triggers { get; set; } = [];
    }

    public sealed class ScaleTarget
    {
        public string Name { get; set; } = "";
        public string? Kind { get; set; }
        public string? ApiVersion { get; set; }
    }

    public sealed class ScaleTrigger
    {
        public string Type { get; set; } = "";
        public Dictionary<string, string> Metadata { get; set; } = [];
        public AuthenticationReference AuthenticationRef { get; set; } = new();
    }

    public sealed class AuthenticationReference
    {
        public string Name { get; set; } = "";
        public string? Kind { get; set; }
    }

    public sealed class TriggerAuthentication : IKubernetesObject<V1ObjectMeta>
    {
        public string ApiVersion { get; set; } = "";
        public string Kind { get; set; } = "";
        public V1ObjectMeta Metadata { get; set; } = new();
        public TriggerAuthenticationSpec Spec { get; set; } = new();
    }

    public sealed class TriggerAuthenticationSpec
    {
        public List<SecretTarget>? SecretTargetRef { get; set; }
        public PodIdentity? PodIdentity { get; set; }
    }

    public sealed class SecretTarget
    {
        public string Parameter { get; set; } = "";
        public string Name { get; set; } = "";
        public string Key { get; set; } = "";
    }

    public sealed class PodIdentity
    {
        public string Provider { get; set; } = "";
    }

    public sealed class Kustomization
    {
        public string ApiVersion { get; set; } = "";
        public string Kind { get; set; } = "";
        public string Namespace { get; set; } = "";
        public List<Dictionary<string, Dictionary<string, string>>> Labels { get; set; } = [];
        public List<string> Resources { get; set; } = [];
        public List<Dictionary<string, string>> Images { get; set; } = [];
    }
}
