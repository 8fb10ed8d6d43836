// The shared test infrastructure drives sshd, git and Unix file modes: Linux.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
