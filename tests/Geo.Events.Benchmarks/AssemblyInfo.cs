// The harness drives the Linux-only test infrastructure.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
