using Geo.Events.Core.Messaging;
using Geo.Events.Primary;
using Geo.Events.Primary.Hooks;
using Microsoft.Extensions.Options;

namespace Geo.Events.Tests.Hooks;

[TestClass]
public sealed class HookTokenTests
{
    private static HookToken For(string hash) => new(Options.Create(new PrimaryOptions { HookTokenSha256 = hash }));

    [TestMethod]
    public void OnlyTheConfiguredTokenMatches()
    {
        var token = For(HookToken.Hash("s3cret"));
        Assert.IsTrue(token.Matches("s3cret"));
        Assert.IsFalse(token.Matches("s3cret "));
        Assert.IsFalse(token.Matches("S3cret"));
        Assert.IsFalse(token.Matches(""));
    }

    [TestMethod]
    public void TheHashIsPlainSha256SoSha256sumCanMakeIt() =>
        // printf %s s3cret | sha256sum
        Assert.AreEqual("1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0", HookToken.Hash("s3cret"));

    [TestMethod]
    [DataRow("")]
    [DataRow("s3cret")]
    [DataRow("zz28fa5f64bd7bd4d4f1ba8da13e4bb1f9a93d0f01cea1e5d7b63e3ba6a0d6f3")]
    public void AMissingOrMalformedHashStopsTheServiceWithAClearMessage(string hash)
    {
        var result = new PrimaryOptions.Validator().Validate(null, new PrimaryOptions { HookTokenSha256 = hash });
        Assert.IsTrue(result.Failed);
        StringAssert.StartsWith(result.FailureMessage, "Primary:HookTokenSha256 must be");
    }

    [TestMethod]
    [DataRow("", true)]
    [DataRow("1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0", true)]
    [DataRow("s3cret", false)]
    public void TheRegistrationHashIsEmptyOrSha256(string hash, bool valid)
    {
        var result = new PrimaryOptions.Validator().Validate(null, new PrimaryOptions { HookTokenSha256 = HookToken.Hash("s3cret"), RegistrationTokenSha256 = hash });
        Assert.AreEqual(valid, result.Succeeded, result.FailureMessage);
    }

    [TestMethod]
    public void AnUnknownFileKindIsNamedAndTheRootsAreParsedOnce()
    {
        var bad = new PrimaryOptions { HookTokenSha256 = HookToken.Hash("s3cret"), Files = { ["uploads"] = "/srv/uploads" } };
        StringAssert.Contains(new PrimaryOptions.Validator().Validate(null, bad).FailureMessage, "Primary:Files:uploads");

        var good = new PrimaryOptions { HookTokenSha256 = HookToken.Hash("s3cret"), Files = { ["upload"] = "/srv/uploads/" } };
        Assert.IsTrue(new PrimaryOptions.Validator().Validate(null, good).Succeeded);
        Assert.AreSame(good.FileRoots(), good.FileRoots());
    }

    [TestMethod]
    [DataRow("tokyo", true)]
    [DataRow("eu-west-1", true)]
    [DataRow("Tokyo", false)]
    [DataRow("-edge", false)]
    [DataRow("a.b", false)]
    [DataRow("", false)]
    [DataRow("tokyo\n", false)] // a final newline must not slip past the pattern's end
    public void SecondaryNamesAreDnsLabels(string name, bool valid) =>
        Assert.AreEqual(valid, GeoTopology.SecondaryNameProblem(name) is null);
}
