using Flame.Grains;
using Flame.SessionManager.Security;
using Flame.Wire;

namespace Flame.SessionManager.Grpc;

/// <summary>
/// Fills a list answer from the session directory's pages: only the sessions the caller may see, and never more than
/// <see cref="MaxAnswerBytes"/>, so that a client with gRPC's default 4 MiB limit can read any answer.
/// </summary>
internal sealed class SessionListing(IGrainFactory grains)
{
    /// <summary>The most one list answer holds, in protobuf bytes: 3.5 MiB, leaving room under the default 4 MiB limit.</summary>
    public const int MaxAnswerBytes = 3 * 1024 * 1024 + 512 * 1024;

    /// <summary>Sessions read from the directory per call while filling an answer.</summary>
    private const int DirectoryPage = 1_000;

    /// <summary>
    /// Up to <paramref name="count"/> sessions after <paramref name="token"/>, reading at most <paramref name="pages"/>
    /// directory pages; Next is where the next answer starts (null: nothing after these).
    /// </summary>
    public async Task<(List<V1.Session> Sessions, string? Next)> FillAsync(
        Caller caller, string? token, int count, int pages, bool? open, string? application, CancellationToken cancellationToken)
    {
        var directory = grains.GetGrain<ISessionDirectoryGrain>(ISessionDirectoryGrain.Key);
        var sessions = new List<V1.Session>();
        long bytes = 0;
        for (var read = 0; read < pages && sessions.Count < count; read++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = await directory.ListPageAsync(token, Math.Min(count - sessions.Count, Math.Max(DirectoryPage, count / pages)), open, application);
            foreach (var session in page.Sessions)
            {
                if (Authorizer.MayTouch(caller, session))
                {
                    var wire = session.ToWire();
                    // A repeated field costs its bytes plus a tag and a length (at most 1 + 5 bytes).
                    var size = wire.CalculateSize() + 6;
                    if (bytes + size > MaxAnswerBytes && sessions.Count > 0)
                        return (sessions, token);
                    bytes += size;
                    sessions.Add(wire);
                }
                token = SessionListPage.TokenAfter(session);
            }
            if (page.NextPageToken is null)
                return (sessions, null);
        }
        return (sessions, token);
    }
}
