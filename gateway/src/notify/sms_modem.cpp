// Placeholder: the SMS modem notifier (issue 3) is being written.
namespace homesafe::gateway::notify {}
