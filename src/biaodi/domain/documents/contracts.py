"""What a contract says, as plain text blocks: the loan agreement (借款协议), the claim-transfer
agreement (债权转让协议) and the guarantee letter (担保函). Each party gets its own copy: the
reader's own name and ID number in full, every other person masked (Personal Information
Protection Law art. 6: no more personal data than the purpose needs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from biaodi.domain.shared.money import Money

#: Bumped when the wording changes; stored with every document issued.
TEMPLATE_VERSION = "2026.12-1"
NOTHING = Money(0)


class ContractKind(StrEnum):
    LOAN_AGREEMENT = "loan_agreement"
    TRANSFER_AGREEMENT = "transfer_agreement"
    GUARANTEE_LETTER = "guarantee_letter"


TITLES = {
    ContractKind.LOAN_AGREEMENT: "借款协议 Loan Agreement",
    ContractKind.TRANSFER_AGREEMENT: "债权转让协议 Claim Transfer Agreement",
    ContractKind.GUARANTEE_LETTER: "担保函 Letter of Guarantee",
}

METHOD_NAMES = {
    "equal_installment": "等额本息 equal instalments",
    "equal_principal": "等额本金 equal principal",
    "interest_first": "先息后本 interest first",
    "bullet": "到期一次还本付息 bullet",
}


@dataclass(frozen=True)
class Person:
    user_id: int
    real_name: str
    id_number_masked: str

    def shown_to(self, reader_id: int, reader_id_number: str | None = None) -> str:
        """The reader sees itself in full (its own ID number, decrypted by the caller);
        anyone else sees the surname and the masked ID number."""
        if self.user_id == reader_id:
            return f"{self.real_name}（{reader_id_number or self.id_number_masked}）"
        return f"{mask_name(self.real_name)}（{self.id_number_masked}）"


def mask_name(name: str) -> str:
    """张三丰 → 张**; a one-character name stays as it is."""
    return name[:1] + "*" * (len(name) - 1) if len(name) > 1 else name


def ppm_percent(ppm: int | None) -> str:
    if ppm is None:
        return "—"
    whole, frac = divmod(ppm, 10_000)
    return f"{whole}.{frac:04d}".rstrip("0").rstrip(".") + " %"


@dataclass(frozen=True)
class Instalment:
    seq: int
    due_date: date
    principal: Money
    interest: Money
    service_fee: Money = NOTHING
    guarantee_fee: Money = NOTHING


@dataclass(frozen=True)
class LoanTerms:
    listing_id: int
    kind: str
    title: str
    amount: Money
    annual_rate_ppm: int
    term: int
    term_unit: str
    repayment_method: str
    service_fee_ppm: int
    guarantee_fee_ppm: int
    all_in_cost_ppm: int | None
    funded_at: datetime
    schedule: tuple[Instalment, ...]


@dataclass(frozen=True)
class Share:
    """One investor's part of the loan."""

    investor: Person
    principal: Money


@dataclass
class ContractText:
    """The document as headed blocks of lines plus tables; rendered by `adapters.pdf`."""

    title: str
    reference: str
    blocks: list[tuple[str, list[str]]] = field(default_factory=list)
    tables: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)


def _schedule_table(schedule: tuple[Instalment, ...]) -> tuple[str, list[str], list[list[str]]]:
    rows = [[str(i.seq), i.due_date.isoformat(), i.principal.formatted(), i.interest.formatted(),
             i.service_fee.formatted(), i.guarantee_fee.formatted()] for i in schedule]
    total = [Money(sum(getattr(i, part).fen for i in schedule)).formatted()
             for part in ("principal", "interest", "service_fee", "guarantee_fee")]
    rows.append(["合计 total", "", *total])
    return ("还款计划 Repayment schedule",
            ["期 No.", "到期日 Due", "本金 Principal", "利息 Interest", "服务费 Service fee",
             "担保费 Guarantee fee"], rows)


def _terms_block(terms: LoanTerms) -> tuple[str, list[str]]:
    unit = "个月 months" if terms.term_unit == "month" else "天 days"
    return ("借款条款 Terms", [
        f"标的 Listing: #{terms.listing_id} {terms.title}（{terms.kind}）",
        f"借款本金 Principal: ¥{terms.amount.formatted()}",
        f"年利率 Annual rate: {ppm_percent(terms.annual_rate_ppm)}",
        f"期限 Term: {terms.term} {unit}",
        f"还款方式 Repayment: {METHOD_NAMES.get(terms.repayment_method, terms.repayment_method)}",
        f"平台服务费 Service fee (yearly, on principal owed): {ppm_percent(terms.service_fee_ppm)}",
        f"担保费 Guarantee fee (yearly): {ppm_percent(terms.guarantee_fee_ppm)}",
        f"综合年化成本 All-in annual cost (IRR): {ppm_percent(terms.all_in_cost_ppm)}",
        f"放款时间 Funded at: {terms.funded_at.isoformat(timespec='seconds')}",
    ])


def loan_agreement(terms: LoanTerms, borrower: Person, shares: list[Share], reader_id: int,
                   reader_id_number: str | None = None) -> ContractText:
    text = ContractText(TITLES[ContractKind.LOAN_AGREEMENT], f"LA-{terms.listing_id}")
    lenders = [f"{s.investor.shown_to(reader_id, reader_id_number)}：¥{s.principal.formatted()}"
               for s in shares]
    text.blocks.append(("当事人 Parties", [
        f"借款人 Borrower: {borrower.shown_to(reader_id, reader_id_number)}",
        "出借人 Lenders (amount lent):", *lenders,
        "居间服务方 Intermediary: 标的 Biaodi (信息中介 information intermediary only; "
        "it does not guarantee repayment)",
    ]))
    text.blocks.append(_terms_block(terms))
    own = next((s for s in shares if s.investor.user_id == reader_id), None)
    if own is not None:
        text.blocks.append(("本出借人份额 This lender's share", [
            f"出借本金 Principal lent: ¥{own.principal.formatted()}",
            f"占比 Of the loan: {ppm_percent(own.principal.fen * 1_000_000 // terms.amount.fen)}",
            "每期本息按份额比例分配 Each instalment is shared in this proportion.",
        ]))
    text.tables.append(_schedule_table(terms.schedule))
    text.blocks.append(("约定 Provisions", [
        "1. 借款人按还款计划按期足额还款；逾期按平台规则计收罚息，综合成本不超过法定上限。",
        "   The borrower repays on each due date; overdue amounts bear penalty interest within "
        "the legal cost cap.",
        "2. 出借人可依平台规则转让其债权，受让人承继全部权利。",
        "   A lender may transfer its claim under the platform rules; the buyer takes all rights.",
        "3. 各方以电子方式签署本协议，签署记录与文件哈希值由平台保存。",
        "   The parties sign electronically; the signing events and the file's SHA-256 are kept.",
    ]))
    return text


@dataclass(frozen=True)
class Transfer:
    purchase_id: int
    listing_id: int
    business_date: date
    principal: Money
    accrued_interest: Money
    price: Money
    fee: Money
    yield_ppm: int
    at: datetime


def transfer_agreement(terms: LoanTerms, transfer: Transfer, seller: Person, buyer: Person,
                       borrower: Person, reader_id: int,
                       reader_id_number: str | None = None) -> ContractText:
    text = ContractText(TITLES[ContractKind.TRANSFER_AGREEMENT], f"TA-{transfer.purchase_id}")
    text.blocks.append(("当事人 Parties", [
        f"转让人 Seller: {seller.shown_to(reader_id, reader_id_number)}",
        f"受让人 Buyer: {buyer.shown_to(reader_id, reader_id_number)}",
        f"债务人 Debtor: {borrower.shown_to(reader_id, reader_id_number)}",
    ]))
    text.blocks.append(("转让标的 The claim transferred", [
        f"原借款 Loan: #{terms.listing_id} {terms.title}, ¥{terms.amount.formatted()} at "
        f"{ppm_percent(terms.annual_rate_ppm)}",
        f"转让本金 Principal transferred: ¥{transfer.principal.formatted()}",
        f"应计利息 Accrued interest paid to the seller: ¥{transfer.accrued_interest.formatted()}",
        f"转让价格 Price: ¥{transfer.price.formatted()}",
        f"转让服务费 Transfer fee (seller): ¥{transfer.fee.formatted()}",
        f"受让收益率 Buyer's yield: {ppm_percent(transfer.yield_ppm)}",
        f"转让日 Transfer date: {transfer.business_date.isoformat()}",
        "自转让日起，受让人按比例享有该笔债权此后各期本息。",
        "From the transfer date the buyer receives its share of every later instalment.",
        "债务人已由平台通知（《民法典》第五百四十六条）。",
        "The debtor is notified through the platform (Civil Code art. 546).",
    ]))
    text.blocks.append(_terms_block(terms))
    text.tables.append(_schedule_table(tuple(
        i for i in terms.schedule if i.due_date > transfer.business_date)))
    return text


def guarantee_letter(terms: LoanTerms, guarantor: str, borrower: Person, shares: list[Share],
                     compensation_days: int, reader_id: int,
                     reader_id_number: str | None = None) -> ContractText:
    text = ContractText(TITLES[ContractKind.GUARANTEE_LETTER], f"GL-{terms.listing_id}")
    text.blocks.append(("当事人 Parties", [
        f"保证人 Guarantor: {guarantor}",
        f"债务人 Debtor: {borrower.shown_to(reader_id, reader_id_number)}",
        "债权人 Creditors: the lenders of the loan below and whoever buys their claims",
        *[f"  {s.investor.shown_to(reader_id, reader_id_number)}：¥{s.principal.formatted()}"
          for s in shares],
    ]))
    text.blocks.append(("保证 The guarantee", [
        "保证人就下列借款的本金、利息向债权人承担连带责任保证。",
        "The guarantor is jointly and severally liable for the principal and interest below.",
        f"代偿期限 Compensation within {compensation_days} days of a missed instalment.",
        f"担保费 Guarantee fee (yearly, paid by the borrower): "
        f"{ppm_percent(terms.guarantee_fee_ppm)}",
    ]))
    text.blocks.append(_terms_block(terms))
    text.tables.append(_schedule_table(terms.schedule))
    return text


def signing_block(signatures: list[tuple[str, str, datetime]]) -> tuple[str, list[str]]:
    """(role, who as shown to the reader, when) for each accepting party."""
    return ("签署记录 Signatures", [
        f"{role}: {who} — {at.isoformat(timespec='seconds')}" for role, who, at in signatures])
