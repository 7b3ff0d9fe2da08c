using AudioConverter.Tests.Fixtures;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AudioConverter.Tests.Unit;

/// <summary>
/// No method in src/ is longer than <see cref="MaxLines"/> lines, from its first line (attributes included) to its
/// closing brace or semicolon; the generated EF migrations aside. src is parsed with Roslyn, so a method is what the
/// compiler says it is (methods, constructors, operators, accessors, local functions).
/// </summary>
public sealed class MethodLengthTests
{
    public const int MaxLines = 60;

    /// <summary>
    /// Methods still over the limit, each with why it is allowed for now. A method on this list that gets short
    /// fails the test too, so the list cannot go stale.
    /// </summary>
    private static readonly Dictionary<string, string> KnownLong = new(StringComparer.Ordinal)
    {
    };

    [Fact]
    public void NoMethodInSrcIsLongerThanTheLimit()
    {
        var lengths = MethodLengths(Path.Combine(ServerProcess.RepositoryRoot(), "src")).ToList();
        Assert.True(lengths.Count > 200, $"only {lengths.Count} methods found under src/: the walk is broken");

        var tooLong = lengths.Where(m => m.Lines > MaxLines && !KnownLong.ContainsKey(m.Name)).Select(m => $"{m.Name} ({m.Lines} lines, {m.Location})").ToList();
        Assert.True(tooLong.Count == 0, $"Methods longer than {MaxLines} lines; split them into well-named methods:\n{string.Join("\n", tooLong)}");

        var shortened = KnownLong.Keys.Where(name => !lengths.Any(m => m.Name == name && m.Lines > MaxLines)).ToList();
        Assert.True(shortened.Count == 0, $"Now short (or gone), so take them off {nameof(KnownLong)}: {string.Join(", ", shortened)}");
    }

    [Fact]
    public void TheLengthOfAMethodCountsFromItsAttributesToItsClosingBrace()
    {
        const string source = """
            namespace N;

            public sealed class C
            {
                [Obsolete]
                public int Three()
                {
                    return 3;
                }

                public int Arrow() =>
                    1;

                public C() { }
            }
            """;
        var lengths = MethodLengths(CSharpSyntaxTree.ParseText(source, path: "C.cs")).ToDictionary(m => m.Name, m => m.Lines);

        Assert.Equal(5, lengths["N.C.Three"]);
        Assert.Equal(2, lengths["N.C.Arrow"]);
        Assert.Equal(1, lengths["N.C..ctor"]);
    }

    private static IEnumerable<(string Name, int Lines, string Location)> MethodLengths(string src)
    {
        var files = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(path => !IsBuildOutput(path) && !path.Replace('\\', '/').Contains("/Data/Migrations/", StringComparison.Ordinal));
        return files.SelectMany(path => MethodLengths(CSharpSyntaxTree.ParseText(File.ReadAllText(path), path: Path.GetRelativePath(src, path))));
    }

    private static bool IsBuildOutput(string path)
    {
        var normalized = path.Replace('\\', '/');
        return normalized.Contains("/obj/", StringComparison.Ordinal) || normalized.Contains("/bin/", StringComparison.Ordinal);
    }

    private static IEnumerable<(string Name, int Lines, string Location)> MethodLengths(SyntaxTree tree)
    {
        foreach (var node in tree.GetRoot().DescendantNodes())
        {
            var name = node switch
            {
                MethodDeclarationSyntax method => method.Identifier.Text,
                ConstructorDeclarationSyntax => ".ctor",
                OperatorDeclarationSyntax op => "op_" + op.OperatorToken.Text,
                ConversionOperatorDeclarationSyntax => "op_conversion",
                AccessorDeclarationSyntax accessor when accessor.Body is not null || accessor.ExpressionBody is not null => $"{Owner(accessor)}.{accessor.Keyword.Text}",
                LocalFunctionStatementSyntax local => $"{Enclosing(local)}.{local.Identifier.Text}",
                _ => null,
            };
            if (name is null)
            {
                continue;
            }

            var span = node.GetLocation().GetLineSpan();
            var type = string.Join(".", node.Ancestors().OfType<BaseTypeDeclarationSyntax>().Reverse().Select(t => t.Identifier.Text));
            var ns = node.Ancestors().OfType<BaseNamespaceDeclarationSyntax>().FirstOrDefault()?.Name.ToString();
            var qualified = string.Join(".", new[] { ns, type, name }.Where(part => !string.IsNullOrEmpty(part)));
            yield return (qualified, span.EndLinePosition.Line - span.StartLinePosition.Line + 1, $"{span.Path}:{span.StartLinePosition.Line + 1}");
        }
    }

    private static string Owner(AccessorDeclarationSyntax accessor) => accessor.Parent?.Parent switch
    {
        PropertyDeclarationSyntax property => property.Identifier.Text,
        IndexerDeclarationSyntax => "this[]",
        EventDeclarationSyntax e => e.Identifier.Text,
        _ => "accessor",
    };

    private static string Enclosing(SyntaxNode node) =>
        node.Ancestors().OfType<MethodDeclarationSyntax>().FirstOrDefault()?.Identifier.Text ?? "local";
}
