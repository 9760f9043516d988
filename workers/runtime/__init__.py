"""The faust runtime around the stages: the app and its agent, one message through a stage,
where the stage runs."""
