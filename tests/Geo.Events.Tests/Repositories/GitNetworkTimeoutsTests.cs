using System.Net;
using System.Net.Sockets;
using Geo.Events.Core.Repositories;
using LibGit2Sharp;

namespace Geo.Events.Tests.Repositories;

/// <summary>libgit2's network timeouts, set through its native options, against a real socket that never answers.</summary>
[TestClass]
[DoNotParallelize] // the options are process-wide
public sealed class GitNetworkTimeoutsTests
{
    [TestMethod]
    public void TheTimeoutsSetAreTheOnesLibgit2Reports()
    {
        GitNetworkTimeouts.Apply(TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(7500));

        Assert.AreEqual((TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(7500)), GitNetworkTimeouts.Current());
    }

    [TestMethod]
    public void ANegativeTimeoutIsRefused() =>
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => GitNetworkTimeouts.Apply(TimeSpan.FromSeconds(-1), TimeSpan.FromSeconds(1)));

    [TestMethod]
    public async Task AServerThatAcceptsAndNeverAnswersFailsTheFetchInsteadOfHoldingIt()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = new List<Socket>();
        var accepting = Task.Run(async () =>
        {
            while (true)
            {
                accepted.Add(await silent.AcceptSocketAsync()); // read nothing, answer nothing
            }
        });
        var url = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/group/project.git";
        GitNetworkTimeouts.Apply(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1));
        try
        {
            var listing = Task.Run(() => Repository.ListRemoteReferences(url).ToList());

            // Without the I/O timeout this waits for ever; the generous bound only keeps a broken build from hanging.
            var failure = await Assert.ThrowsAsync<LibGit2SharpException>(() => listing.WaitAsync(TimeSpan.FromSeconds(60)));
            StringAssert.Contains(failure.Message, "timed out");
            Assert.IsNotEmpty(accepted, "the fetch never reached the server");
        }
        finally
        {
            GitNetworkTimeouts.Apply(TimeSpan.Zero, TimeSpan.Zero);
            silent.Stop();
            accepted.ForEach(s => s.Dispose());
        }
    }
}
