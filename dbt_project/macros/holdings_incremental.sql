{#-
    Post-hook of token_holding_periods on an incremental run: the open positions of the tokens the run did
    not recompute were measured to an earlier as_of; measure every open position to the end of this one
    (the same formula the model uses). In the model's transaction.
-#}
{% macro holdings_age_open_positions() -%}
    {%- if is_incremental() -%}
        {%- set end_of_as_of = (modules.datetime.date.fromisoformat(as_of_date())
            + modules.datetime.timedelta(days=1)).isoformat() ~ ' 00:00:00' -%}
        update {{ this }}
        set holding_days = {{ holdings_days_between(
            'acquired_at', "cast('" ~ end_of_as_of ~ "' as " ~ dbt.type_timestamp() ~ ")"
        ) }}
        where is_open
    {%- endif -%}
{%- endmacro %}
