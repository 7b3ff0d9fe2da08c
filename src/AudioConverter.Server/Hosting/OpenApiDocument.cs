using System.Text.Json.Nodes;
using AudioConverter.Core.Tasks;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Idempotency;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace AudioConverter.Server.Hosting;

/// <summary>
/// The served OpenAPI document, made for client generators: both bearer schemes (login JWT, API key), no security on signup
/// and login, every problem status per route, operation ids, the multipart upload part by part, and Idempotency-Key.
/// </summary>
public static class OpenApiDocument
{
    private const string ProblemSchema = "Problem";

    public static void Configure(OpenApiOptions options)
    {
        options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_0;
        options.AddDocumentTransformer((document, context, cancellationToken) =>
        {
            DescribeDocument(document);
            return Task.CompletedTask;
        });
        options.AddSchemaTransformer((schema, context, cancellationToken) =>
        {
            SendPlainNumbers(schema);
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, cancellationToken) =>
        {
            DescribeOperation(operation, context.Description, context.Document!);
            return Task.CompletedTask;
        });
    }

    /// <summary>The document's own parts: its info, both security schemes, the Problem schema and the tags.</summary>
    private static void DescribeDocument(Microsoft.OpenApi.OpenApiDocument document)
    {
        document.Info = new OpenApiInfo
        {
            Title = "AudioConverter API",
            Version = "v1",
            Description = "Sign up, log in for a bearer token (or create an API key), upload audio with the format you want, follow the task, download the result. Errors are application/problem+json.",
            License = new OpenApiLicense { Name = "MIT", Identifier = "MIT" },
        };
        document.Servers = [new OpenApiServer { Url = "/", Description = "This server" }];
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["Bearer"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "The token from POST /api/auth/login (valid for the configured lifetime, two hours by default).",
        };
        document.Components.SecuritySchemes["ApiKey"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "ack_ + 43 base64url characters",
            Description = "An API key from POST /api/keys, sent as 'Authorization: Bearer ack_...'. Each operation's x-required-scope says which scope it needs "
                + $"({string.Join(", ", ApiKeyScopes.All)}); operations without it need a login token.",
        };
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        document.Components.Schemas[ProblemSchema] = ProblemDefinition();
        // The upload and the problems are described by hand below; the generated stand-ins would be unused.
        document.Components.Schemas.Remove("IFormFile");
        document.Components.Schemas.Remove("HttpValidationProblemDetails");
        document.Tags ??= new HashSet<OpenApiTag>();
        foreach (var tag in document.Tags)
        {
            tag.Description ??= tag.Name;
        }
    }

    /// <summary>RFC 9457 problem details, as every error answers.</summary>
    private static OpenApiSchema ProblemDefinition() => new()
    {
        Type = JsonSchemaType.Object,
        Description = "RFC 9457 problem details; 'detail' is a sentence a person can act on. Validation problems add 'errors' (field to messages).",
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" },
            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["instance"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["scope"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "On 403: the API-key scope the route needs." },
            ["errors"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
            },
        },
    };

    private static void SendPlainNumbers(OpenApiSchema schema)
    {
        // The API reads numbers from strings too (JsonSerializerOptions.Web), which the generator shows as "integer or string";
        // a client should send and expect plain numbers.
        if (schema is OpenApiSchema { AnyOf: { Count: > 0 } anyOf } concrete && anyOf.FirstOrDefault(a => a.Type is JsonSchemaType.Integer or JsonSchemaType.Number) is { } number)
        {
            concrete.Type = number.Type;
            concrete.Pattern = null;
            concrete.AnyOf = null;
        }
        else if (schema is OpenApiSchema { Type: { } type } plain && (type & (JsonSchemaType.Integer | JsonSchemaType.Number)) != 0 && (type & JsonSchemaType.String) != 0)
        {
            plain.Type = type & ~JsonSchemaType.String;
            plain.Pattern = null;
        }
    }

    private static void DescribeOperation(OpenApiOperation operation, Microsoft.AspNetCore.Mvc.ApiExplorer.ApiDescription description, Microsoft.OpenApi.OpenApiDocument document)
    {
        var method = description.HttpMethod ?? "GET";
        var route = System.Text.RegularExpressions.Regex.Replace("/" + (description.RelativePath ?? "").TrimEnd('/'), @"\{(\w+):[^}]+\}", "{$1}");
        var metadata = description.ActionDescriptor.EndpointMetadata;
        var anonymous = metadata.OfType<IAllowAnonymous>().Any() || !metadata.OfType<IAuthorizeData>().Any();
        operation.OperationId ??= OperationId(method, route);
        operation.Responses ??= new OpenApiResponses();
        PointValidationProblemsAtProblem(operation.Responses, document);
        AddProblemResponses(operation.Responses, document, method, route, anonymous);
        AddSecurity(operation, document, method, route, anonymous);
        DescribeBodies(operation, operation.Responses, method, route);
    }

    /// <summary>A handler's own ValidationProblem answers point at the generated stand-in, which the document drops: point them at Problem.</summary>
    private static void PointValidationProblemsAtProblem(OpenApiResponses responses, Microsoft.OpenApi.OpenApiDocument document)
    {
        foreach (var media in responses.Values.SelectMany(r => r.Content?.Values ?? []))
        {
            if (media is OpenApiMediaType { Schema: OpenApiSchemaReference { Reference.Id: "HttpValidationProblemDetails" } } generated)
            {
                generated.Schema = new OpenApiSchemaReference(ProblemSchema, document);
            }
        }
    }

    private static void AddProblemResponses(OpenApiResponses responses, Microsoft.OpenApi.OpenApiDocument document, string method, string route, bool anonymous)
    {
        foreach (var (status, why) in ProblemStatuses(method, route, anonymous))
        {
            var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            responses[key] = new OpenApiResponse
            {
                Description = why,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/problem+json"] = new OpenApiMediaType { Schema = new OpenApiSchemaReference(ProblemSchema, document) },
                },
            };
        }
    }

    /// <summary>Signup and login need nothing; every other route a login token or an API key (with the scope it names).</summary>
    private static void AddSecurity(OpenApiOperation operation, Microsoft.OpenApi.OpenApiDocument document, string method, string route, bool anonymous)
    {
        if (anonymous)
        {
            operation.Security = [];
        }
        else
        {
            operation.Security =
            [
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("Bearer", document)] = [] },
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("ApiKey", document)] = [] },
            ];
            if (ApiKeyScopes.Required(method, route.Replace("{id}", "{id:long}", StringComparison.Ordinal)) is { } scope)
            {
                operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
                operation.Extensions["x-required-scope"] = new JsonNodeExtension(JsonValue.Create(scope.Length == 0 ? "any" : scope));
            }
        }
    }

    /// <summary>The Idempotency-Key header, the multipart upload and the file downloads, which the generator cannot see.</summary>
    private static void DescribeBodies(OpenApiOperation operation, OpenApiResponses responses, string method, string route)
    {
        if (method is "POST" or "PUT" && route is "/api/tasks" or "/api/tasks/{id}")
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = IdempotencyMiddleware.Header,
                In = ParameterLocation.Header,
                Required = false,
                Description = "1 to 255 characters, e.g. a UUID. The same key from the same user within 24 hours answers the first response again (header Idempotent-Replayed: true); another request under it is 422; a duplicate while the first runs is 409.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = IdempotencyMiddleware.MaxKeyLength },
            });
        }

        if (method == "POST" && route == "/api/tasks")
        {
            operation.RequestBody = UploadBody();
        }

        if (method == "GET" && route is "/api/tasks/{id}/original" or "/api/tasks/{id}/converted" or "/api/download/{id}" or "/api/files/{fileName}")
        {
            responses["200"] = new OpenApiResponse
            {
                Description = "The file, as an attachment (ETag, Last-Modified and Range supported); the content type is the file's audio type.",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/octet-stream"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } },
                },
            };
        }

        if (route == "/api/tasks/archive")
        {
            responses["200"] = new OpenApiResponse
            {
                Description = "The ZIP, streamed; one entry per task, named after its file with the new extension.",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/zip"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } },
                },
            };
        }
    }

    /// <summary>The multipart upload, part by part.</summary>
    private static OpenApiRequestBody UploadBody() => new()
    {
        Required = true,
        Description = "The audio file and the format to convert to. The file part is checked for an audio signature as it streams.",
        Content = new Dictionary<string, OpenApiMediaType>
        {
            ["multipart/form-data"] = new OpenApiMediaType
            {
                Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = new HashSet<string> { "fileName", "newFormat" },
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["fileName"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", Description = "The audio file (the part may also be named 'file' or 'audio'); its file name is shown on the task." },
                        ["newFormat"] = new OpenApiSchema
                        {
                            Type = JsonSchemaType.String,
                            Description = "The format to convert to: " + string.Join("; ", AudioFormat.All.Select(f => $"{f.Name} = {f.Description}")) + ".",
                            Enum = [.. AudioFormat.All.Select(f => (JsonNode)JsonValue.Create(f.Name)!)],
                        },
                        ["filename"] = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 200, Description = "Optional display name, instead of the file part's own name." },
                        ["webhookUrl"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, Format = "uri", Description = "Optional: an absolute http(s) URL that receives this task's task.processed and task.failed, signed as /api/webhooks deliveries are; the answer's webhookSecret (shown once) verifies them." },
                    },
                },
            },
        },
    };

    /// <summary>Every problem a route can answer, with why.</summary>
    internal static IEnumerable<(int Status, string Why)> ProblemStatuses(string method, string route, bool anonymous)
    {
        if (!anonymous)
        {
            yield return (401, "No token, or a token or API key that is not valid, expired or revoked.");
            yield return (403, "An API key without the scope this route needs (the problem's 'scope' names it), or a key on a route that needs a login token.");
        }

        var hasId = route.Contains("{id}", StringComparison.Ordinal) || route.Contains("{fileName}", StringComparison.Ordinal);
        foreach (var problem in RouteProblems(method, route))
        {
            yield return problem;
        }

        if (hasId)
        {
            yield return (404, "Nothing with that identifier exists for this account.");
        }

        if (!route.StartsWith("/health", StringComparison.Ordinal))
        {
            yield return (503, "A backend (database, storage, queue) is unreachable; try again shortly.");
        }
    }

    /// <summary>The problems particular to a route, beyond authentication, a missing id and an unreachable backend.</summary>
    private static IEnumerable<(int Status, string Why)> RouteProblems(string method, string route)
    {
        switch (method, route)
        {
            case ("POST", "/api/auth/signup"):
                yield return (400, "A field is missing or not valid (errors names it).");
                yield return (409, "The username or e-mail is taken.");
                yield return (429, "Too many signups or failed logins from this address; Retry-After says when to try again.");
                break;
            case ("POST", "/api/auth/login"):
                yield return (400, "The body is not valid JSON or a field is missing.");
                yield return (401, "The username or password is wrong.");
                yield return (429, "Too many failed logins from this address; Retry-After says when to try again.");
                break;
            case ("POST", "/api/tasks"):
                yield return (400, "Not multipart, no file, not audio, a wrong format, or a malformed Idempotency-Key.");
                yield return (409, "A request with the same Idempotency-Key is still running.");
                yield return (413, "The file is larger than the limit.");
                yield return (422, "The Idempotency-Key was used for a different request.");
                yield return (429, "Over the upload quota; Retry-After says when.");
                break;
            case ("PUT", "/api/tasks/{id}"):
                yield return (400, "The body is not JSON, the format is not supported, or the Idempotency-Key is malformed.");
                yield return (409, "The task is being converted right now, or a request with the same Idempotency-Key is still running.");
                yield return (422, "The Idempotency-Key was used for a different request.");
                break;
            case ("DELETE", "/api/tasks/{id}"):
                yield return (409, "The task is being converted right now.");
                break;
            case ("GET", "/api/tasks"):
                yield return (400, "'max' or 'order' is not valid.");
                break;
            case ("GET", "/api/tasks/{id}/converted"):
                yield return (409, "The task is not processed (yet), or failed.");
                break;
            case ("GET", "/api/tasks/archive"):
                yield return (400, "'ids' is missing, malformed or names too many tasks.");
                yield return (404, "A named task does not exist for this account.");
                yield return (409, "A named task is not processed.");
                break;
            case ("POST", "/api/keys"):
                yield return (400, "The name, scopes or expiry are not valid, or the account has too many keys.");
                break;
            default:
                if (method is "POST" or "PUT")
                {
                    yield return (400, "The request is not valid (the problem's errors say which field).");
                }

                break;
        }
    }

    private static string OperationId(string method, string route)
    {
        var words = route.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(w => w != "api")
            .Select(w => w.StartsWith('{') ? "By" + Capitalize(w.Trim('{', '}')) : Capitalize(w.Replace(".json", "", StringComparison.Ordinal)));
        return method.ToLowerInvariant() + string.Concat(words).Replace("-", "", StringComparison.Ordinal);
    }

    private static string Capitalize(string word) => word.Length == 0 ? word : char.ToUpperInvariant(word[0]) + word[1..];
}
