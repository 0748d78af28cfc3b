// Placeholder: the HTTP webhook notifier (issue 3) is being written.
namespace homesafe::gateway::notify {}
