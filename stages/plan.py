"""Stage plan: each family's sample sizes, trials and folds, derived from the data's shape and
params.yaml's `budget` (domain_classifier/planning), written where a review shows them."""

import click

from domain_classifier.stage import PARAMS_OPTION, stage


@click.command()
@PARAMS_OPTION
@click.option("--features", default="data/features", show_default=True)
@click.option("--out", default="metrics/budget.json", show_default=True)
@click.option(
    "--plans",
    default="data/plan",
    show_default=True,
    help="One settings file per family, what its training stage reads.",
)
@stage
def main(params_file, features, out, plans):
    """Write each family's settings and the predicted minutes of the whole run."""
    from domain_classifier.data.tables import write_json
    from domain_classifier.families import registry
    from domain_classifier.params import read_params
    from domain_classifier.planning.costs import load_coefficients
    from domain_classifier.planning.plan import derive, features_shape
    from domain_classifier.planning.settings import plan_file

    plan = derive(
        read_params(params_file),
        list(registry.names()),
        features_shape(features),
        load_coefficients(),
    )
    for family, entry in plan["families"].items():
        write_json(entry["settings"], plan_file(plans, family))
    write_json(plan, out)
    if plan["cheapest_minutes"] > plan["budget_minutes"]:
        click.echo(
            f"warning: budget.minutes ({plan['budget_minutes']:g}) is below the "
            f"{plan['cheapest_minutes']:.1f} minutes the stages and every family's cheapest "
            "settings are predicted to need; families got their cheapest where it ran out",
            err=True,
        )
    families = plan["families"].items()
    click.echo(
        f"plan: {plan['predicted_minutes']:.1f} of {plan['budget_minutes']:g} budgeted minutes; "
        + ", ".join(f"{family} {entry['predicted_seconds']:.0f} s" for family, entry in families)
    )


if __name__ == "__main__":
    main()
