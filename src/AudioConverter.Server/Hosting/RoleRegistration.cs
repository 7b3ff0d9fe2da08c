using AudioConverter.Infrastructure;

namespace AudioConverter.Server.Hosting;

/// <summary>The role decides what is registered, so it is read and checked first.</summary>
public static class RoleRegistration
{
    public static HostingOptions AddRoles(this IServiceCollection services, IConfiguration configuration)
    {
        var roles = services.ReadSettings(configuration, "", new HostingOptionsRules());
        services.AddSingleton(roles);
        return roles;
    }
}
