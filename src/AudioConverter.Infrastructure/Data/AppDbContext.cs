using AudioConverter.Core.Notifications;
using AudioConverter.Core.Tasks;
using AudioConverter.Core.Users;
using Microsoft.EntityFrameworkCore;

namespace AudioConverter.Infrastructure.Data;

/// <summary>Users, tasks, their events, API keys and idempotency records. Each database provider has a subclass that owns its migrations.</summary>
public class AppDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<User> Users => Set<User>();
    public DbSet<ConversionTask> Tasks => Set<ConversionTask>();
    public DbSet<TaskEvent> TaskEvents => Set<TaskEvent>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<IdempotencyRecord> IdempotencyRecords => Set<IdempotencyRecord>();
    public DbSet<WebhookEndpoint> WebhookEndpoints => Set<WebhookEndpoint>();
    public DbSet<OutboxMessage> Outbox => Set<OutboxMessage>();
    public DbSet<DeliveryAttempt> DeliveryAttempts => Set<DeliveryAttempt>();
    public DbSet<OutboxCursor> OutboxCursors => Set<OutboxCursor>();
    public DbSet<Core.Presets.UserPreset> UserPresets => Set<Core.Presets.UserPreset>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        OnTasksCreating(modelBuilder);
        OnNotificationsCreating(modelBuilder);
        OnAccountDataCreating(modelBuilder);
    }

    /// <summary>Users, their tasks and the tasks' events.</summary>
    private static void OnTasksCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<User>(user =>
        {
            user.ToTable("users");
            user.Property(u => u.Username).HasMaxLength(64);
            user.Property(u => u.Email).HasMaxLength(254);
            user.Property<string>("NormalizedUsername").HasMaxLength(64);
            user.Property<string>("NormalizedEmail").HasMaxLength(254);
            user.HasIndex("NormalizedUsername").IsUnique();
            user.HasIndex("NormalizedEmail").IsUnique();
            user.Property(u => u.PasswordHash).HasMaxLength(512);
            user.Property(u => u.EmailVerificationHash).HasMaxLength(64);
            user.HasIndex(u => u.EmailVerificationHash);
        });

        modelBuilder.Entity<ConversionTask>(task =>
        {
            task.ToTable("tasks");
            task.Property(t => t.FileName).HasMaxLength(256);
            task.Property(t => t.OriginalFormat).HasMaxLength(16);
            task.Property(t => t.NewFormat).HasMaxLength(16);
            task.Property(t => t.Status).HasConversion<string>().HasMaxLength(16);
            task.Property(t => t.Error).HasMaxLength(1000);
            task.Property(t => t.InputKey).HasMaxLength(200);
            task.Property(t => t.OutputKey).HasMaxLength(200);
            task.Property(t => t.LeaseOwner).HasMaxLength(64);
            task.Property(t => t.InputSha256).HasMaxLength(64);
            task.Property(t => t.Options).HasMaxLength(100_000);
            task.HasIndex(t => new { t.UserId, t.Id });

            // The upload quota's two queries (active tasks; bytes in the last hour, covered) and the reuse lookup.
            task.HasIndex(t => new { t.UserId, t.Status });
            task.HasIndex(t => new { t.UserId, t.CreatedAt, t.InputBytes });
            task.HasIndex(t => new { t.UserId, t.InputSha256, t.NewFormat, t.Status });
            task.HasIndex(t => new { t.Status, t.UpdatedAt });
            task.HasIndex(t => t.InputKey).IsUnique();
            task.HasIndex(t => t.OutputKey);
            task.HasOne<User>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        // No foreign key to tasks: a task.deleted event outlives its task.
        modelBuilder.Entity<TaskEvent>(taskEvent =>
        {
            taskEvent.ToTable("task_events");
            taskEvent.Property(e => e.Type).HasMaxLength(32);
            taskEvent.HasIndex(e => new { e.UserId, e.Id });
            taskEvent.HasIndex(e => e.CreatedAt);
        });

    }

    /// <summary>What else an account owns: its presets, API keys and idempotency records.</summary>
    private static void OnAccountDataCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Core.Presets.UserPreset>(preset =>
        {
            preset.ToTable("user_presets");
            preset.Property(p => p.Name).HasMaxLength(64);
            preset.Property(p => p.NewFormat).HasMaxLength(16);
            preset.Property(p => p.Options).HasMaxLength(100000);
            preset.HasIndex(p => new { p.UserId, p.Name }).IsUnique();
            preset.HasOne<User>().WithMany().HasForeignKey(p => p.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<ApiKey>(key =>
        {
            key.ToTable("api_keys");
            key.Property(k => k.Name).HasMaxLength(100);
            key.Property(k => k.Prefix).HasMaxLength(16);
            key.Property(k => k.Hash).HasMaxLength(64);
            key.Property(k => k.Scopes).HasMaxLength(200);
            key.HasIndex(k => k.Hash).IsUnique();
            key.HasIndex(k => new { k.UserId, k.Id });
            key.HasOne<User>().WithMany().HasForeignKey(k => k.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<IdempotencyRecord>(record =>
        {
            record.ToTable("idempotency_records");
            record.Property(r => r.Key).HasMaxLength(255);
            record.Property(r => r.Fingerprint).HasMaxLength(64);
            record.Property(r => r.ContentType).HasMaxLength(200);
            record.Property(r => r.Location).HasMaxLength(500);
            record.HasIndex(r => new { r.UserId, r.Key }).IsUnique();
            record.HasIndex(r => r.CreatedAt);
            record.HasOne<User>().WithMany().HasForeignKey(r => r.UserId).OnDelete(DeleteBehavior.Cascade);
        });
    }

    /// <summary>Sets the shadow columns that make usernames and e-mails unique regardless of case.</summary>
    public void SetNormalizedNames(User user)
    {
        var entry = Entry(user);
        entry.Property("NormalizedUsername").CurrentValue = Normalize(user.Username);
        entry.Property("NormalizedEmail").CurrentValue = Normalize(user.Email);
    }

    public static string Normalize(string value) => value.Trim().ToUpperInvariant();

    /// <summary>Webhook endpoints, the outbox of webhook deliveries and e-mails, its delivery log and the dispatcher's cursor.</summary>
    private static void OnNotificationsCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<WebhookEndpoint>(endpoint =>
        {
            endpoint.ToTable("webhook_endpoints");
            endpoint.Property(e => e.Url).HasMaxLength(2048);
            endpoint.Property(e => e.Events).HasMaxLength(256);
            endpoint.Property(e => e.Description).HasMaxLength(256);
            endpoint.Property(e => e.Secret).HasMaxLength(64);
            endpoint.Property(e => e.DisabledReason).HasMaxLength(500);
            endpoint.Ignore(e => e.EventList);
            endpoint.HasIndex(e => new { e.UserId, e.TaskId });
            endpoint.HasOne<User>().WithMany().HasForeignKey(e => e.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<OutboxMessage>(message =>
        {
            message.ToTable("outbox");
            message.Property(m => m.Kind).HasMaxLength(16);
            message.Property(m => m.Type).HasMaxLength(32);
            message.Property(m => m.MessageId).HasMaxLength(64);
            message.Property(m => m.Status).HasMaxLength(16);
            message.Property(m => m.LeaseOwner).HasMaxLength(64);
            message.HasIndex(m => new { m.Status, m.NextAttemptAt });
            message.HasIndex(m => new { m.EndpointId, m.Id });
        });

        modelBuilder.Entity<DeliveryAttempt>(attempt =>
        {
            attempt.ToTable("delivery_attempts");
            attempt.Property(a => a.Response).HasMaxLength(600);
            attempt.HasIndex(a => a.MessageId);
        });

        modelBuilder.Entity<OutboxCursor>(cursor =>
        {
            cursor.ToTable("outbox_cursors");
            cursor.HasKey(c => c.Name);
            cursor.Property(c => c.Name).HasMaxLength(32);
        });
    }
}
