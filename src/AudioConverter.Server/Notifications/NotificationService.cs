using AudioConverter.Core.Notifications;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Notifications;
using Microsoft.EntityFrameworkCore;

namespace AudioConverter.Server.Notifications;

/// <summary>
/// Sends the e-mails queued by the worker, one at a time, each tried a few times with a growing wait, then given up
/// with a warning. The task row is already final, so nothing here can change a task's status.
/// </summary>
public sealed partial class NotificationService(
    NotificationQueue queue,
    SmtpMailSender sender,
    NotificationOptions options,
    IServiceScopeFactory scopes,
    TimeProvider clock,
    ILogger<NotificationService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var notification in queue.Reader.ReadAllAsync(stoppingToken))
            {
                await DeliverAsync(notification, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Messages still waiting are not sent: there is no outbox, and the task's page shows its outcome anyway.
        }
    }

    private async Task DeliverAsync(TaskNotification notification, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var recipient = await OwnerAddressAsync(notification.UserId, cancellationToken);
                if (recipient is null)
                {
                    // The account was deleted since the task finished.
                    return;
                }

                await sender.SendAsync(recipient, notification.Subject, notification.Body(options.BaseUrl), cancellationToken);
                LogSent(logger, notification.TaskId);
                return;
            }
            catch (FormatException e)
            {
                LogGivenUp(logger, notification.TaskId, attempt, e.Message);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                if (attempt >= options.MaxAttempts)
                {
                    LogGivenUp(logger, notification.TaskId, attempt, e.Message);
                    return;
                }

                var delay = TimeSpan.FromSeconds(options.RetryDelaySeconds * Math.Pow(2, attempt - 1));
                LogRetrying(logger, notification.TaskId, attempt, delay.TotalSeconds, e.Message);
                await Task.Delay(delay, clock, cancellationToken);
            }
        }
    }

    private async Task<string?> OwnerAddressAsync(long userId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        return await db.Users.Where(u => u.Id == userId).Select(u => u.Email).FirstOrDefaultAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "E-mailed the owner of task {TaskId}")]
    private static partial void LogSent(ILogger logger, long taskId);

    [LoggerMessage(Level = LogLevel.Information, Message = "E-mail for task {TaskId} failed on attempt {Attempt}; trying again in {DelaySeconds} s: {Reason}")]
    private static partial void LogRetrying(ILogger logger, long taskId, int attempt, double delaySeconds, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gave up e-mailing the owner of task {TaskId} after {Attempts} attempts: {Reason}")]
    private static partial void LogGivenUp(ILogger logger, long taskId, int attempts, string reason);
}
