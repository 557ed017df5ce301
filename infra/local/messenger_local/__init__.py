"""Local runtime: embedded backing services and a gateway emulating API Gateway, Lambda,
MSK triggers and schedules from template.yaml."""
