// The broker-restart test stops RabbitMQ for everyone: integration tests run one at a time.
[assembly: DoNotParallelize]
