"""Train an SVC on iris, evaluate it, and promote it to production when it is good enough."""

from steps import evaluator, promote_model, svc_trainer, training_data_loader

from modelplane import pipeline
from modelplane.model import ModelConfig


@pipeline(
    enable_cache=False,
    model_config=ModelConfig(
        name="iris_classifier",
        license="Apache",
        description="Show case Model Control Plane.",
        create_new_model_version=True,
        delete_new_version_on_failure=True,
    ),
)
def train_and_promote_model(gamma: float = 0.1):
    train, test = training_data_loader()
    model, _ = svc_trainer(dataset=train, gamma=gamma)
    score = evaluator(model=model, dataset=test)
    promote_model(score=score)


if __name__ == "__main__":
    run = train_and_promote_model()
    print(f"run {run.name}: {run.status}")
