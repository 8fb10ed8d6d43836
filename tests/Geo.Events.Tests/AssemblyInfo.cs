[assembly: Parallelize(Scope = ExecutionScope.MethodLevel)]

// Geo.Events runs where sshd, git and its file modes are: Linux.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
