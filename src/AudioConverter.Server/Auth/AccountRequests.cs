using System.Text.Json.Serialization;

namespace AudioConverter.Server.Auth;

public sealed record SignupRequest(
    string? Username,
    [property: JsonPropertyName("user")] string? User,
    string? Email,
    string? Password1,
    string? Password2);

public sealed record LoginRequest(string? Username, string? Email, string? Password);

public sealed record UserResponse(long Id, string Username, string Email, DateTime CreatedAt);

public sealed record TokenResponse(string Token, string TokenType, DateTime ExpiresAt);
