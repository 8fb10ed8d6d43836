// The broker-restart test stops RabbitMQ for everyone: integration tests run one at a time.
[assembly: DoNotParallelize]

// Geo.Events runs where sshd, git and its file modes are: Linux.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
