using Geo.Events.Secondary.Keys;

// geo-authorized-keys %u %t %k: geo-secondary's AuthorizedKeysCommand as a NativeAOT executable, so that an SSH
// login does not start a .NET runtime. The same source as `geo-secondary authorized-keys` (linked in the project).
return await AuthorizedKeysCommand.RunAsync("geo-authorized-keys", args);
