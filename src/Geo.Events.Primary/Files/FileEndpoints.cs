using Geo.Events.Core.Paths;
using Geo.Events.Core.Secondaries;
using Geo.Events.Primary.Secondaries;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Geo.Events.Primary.Files;

/// <summary>
/// <c>GET /api/v1/secondaries/{name}/files/{kind}/{**path}</c>: a file's bytes for a registered secondary
/// (its own bearer token), streamed, with <c>ETag</c>, <c>Range</c> and <c>If-Range</c>. Only regular files
/// under the kind's configured root are reachable: a bad path, a symbolic link anywhere on the way, or a
/// file outside the roots is a 404, like a missing file.
/// </summary>
public static class FileEndpoints
{
    public static void MapFileEndpoints(this IEndpointRouteBuilder app) =>
        app.MapMethods("/api/v1/secondaries/{name}/files/{kind}/{**path}", ["GET", "HEAD"], ServeAsync);

    private static async Task<IResult> ServeAsync(
        string name, string kind, string path, HttpRequest request, SecondaryStore store, IOptions<PrimaryOptions> options, CancellationToken cancellationToken)
    {
        if (!await SecondaryEndpoints.AuthenticatedAsync(name, request, store, cancellationToken))
        {
            return SecondaryEndpoints.WrongToken(name);
        }

        if (FilePath.Parse(kind) is not { } fileKind || !options.Value.FileRoots().TryGetValue(fileKind, out var root))
        {
            return NotFound($"no file store '{kind}' is configured (Primary:Files)");
        }

        string full;
        try
        {
            full = FilePath.ResolveUnder(root, path);
        }
        catch (InvalidFilePathException e)
        {
            return NotFound($"path {e.Reason}");
        }

        var info = new FileInfo(full);
        if (!info.Exists || info.LinkTarget is not null)
        {
            return NotFound("no such file");
        }

        // Size and modification time name the content: a file rewritten in place gets a new ETag, so a
        // resumed download (If-Range) starts over instead of splicing two versions.
        var etag = new EntityTagHeaderValue($"\"{info.Length:x}-{info.LastWriteTimeUtc.Ticks:x}\"");
        var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return Results.File(stream, "application/octet-stream", lastModified: info.LastWriteTimeUtc, entityTag: etag, enableRangeProcessing: true);
    }

    private static IResult NotFound(string detail) => Results.Problem(title: "Not found", detail: detail, statusCode: StatusCodes.Status404NotFound);
}
