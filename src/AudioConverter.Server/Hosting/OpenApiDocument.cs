using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace AudioConverter.Server.Hosting;

/// <summary>Title, description and the bearer scheme, so /docs can send authenticated requests.</summary>
public static class OpenApiDocument
{
    public static void Configure(OpenApiOptions options) => options.AddDocumentTransformer((document, context, cancellationToken) =>
    {
        document.Info = new OpenApiInfo
        {
            Title = "AudioConverter API",
            Version = "v1",
            Description = "Sign up, log in for a bearer token, upload audio with the format you want, poll the task, download the result. Errors are application/problem+json.",
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["Bearer"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "The token from POST /api/auth/login.",
        };
        document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("Bearer", document)] = [] }];
        return Task.CompletedTask;
    });
}
