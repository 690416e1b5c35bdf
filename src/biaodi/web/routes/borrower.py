"""The borrower's pages: the dashboard (risk decision, listings, loans), the credit
application and its decision, a new listing with a preview of every repayment method, a
listing of theirs with its submission for review, and a loan with its repayments."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from biaodi.domain.listings import policy_for
from biaodi.domain.servicing.reamortise import LEVEL_METHODS, Reamortise
from biaodi.domain.shared.bounds import RowId
from biaodi.domain.shared.errors import (
    BiaodiError,
    Forbidden,
    InsufficientBalance,
    InvalidInput,
    NotFound,
)
from biaodi.domain.shared.money import Money, allocate_largest_remainder
from biaodi.services.accounts.users import UserView
from biaodi.services.listings import lifecycle as listings
from biaodi.services.listings import preview as listing_preview
from biaodi.services.listings import queries as listing_queries
from biaodi.services.listings.security import AssetInput, ClaimInput, SecurityInput, store_for
from biaodi.services.risk import applications as risk
from biaodi.services.servicing import queries as servicing
from biaodi.services.servicing import repayments
from biaodi.services.servicing.onboarding import ensure_onboarded
from biaodi.services.shared.idempotency import Answer, run_idempotent
from biaodi.services.shared.rates import parse_percent
from biaodi.services.shared.tx import in_transaction
from biaodi.web import i18n, refusals
from biaodi.web.pages import Form, PageError, platform_of, redirect, render, require_role

router = APIRouter(prefix="/borrow")
Borrower = Annotated[UserView, Depends(require_role("borrower", "originator"))]
Applicant = Annotated[UserView, Depends(require_role("borrower"))]
#: The prefix of the borrower's own refusal sentences (by code and by message).
OWN = "borrow.refusal"

LOAN_STATUSES = ("repaying", "overdue", "settled", "defaulted", "recovered", "written_off")
KINDS = ("credit", "collateral", "guarantee", "transfer", "instant")
ASSET_ROWS = 2
ASSET_FIELDS = ("asset_class", "appraisal_value", "appraised_on", "appraiser", "description",
                "plate_number", "registration_certificate_no")
LISTING_FIELDS = ("kind", "title", "description", "amount", "annual_rate", "term", "term_unit",
                  "repayment_method", "guarantor_id", "claim.principal", "claim.annual_rate",
                  "claim.maturity")
#: The application form: (field, input type, choices or None).
APPLICATION_FIELDS: tuple[tuple[str, str, tuple[str, ...] | None], ...] = (
    ("real_name", "text", None), ("id_number", "text", None), ("declared_age", "number", None),
    ("province", "text", None), ("mobile", "tel", None), ("bank_card", "text", None),
    ("monthly_income", "text", None), ("employment_type", "select", risk.EMPLOYMENT),
    ("employment_years", "number", None), ("employer", "text", None),
    ("housing", "select", risk.HOUSING), ("marital_status", "select", risk.MARITAL),
    ("monthly_expenses", "text", None), ("assets", "text", None), ("debts", "text", None),
    ("monthly_debt_payments", "text", None), ("other_platform_borrowings", "text", None),
    ("purpose", "select", risk.PURPOSES), ("amount", "text", None),
    ("term_months", "number", None), ("listing_kind", "select", KINDS),
    ("security_value", "text", None), ("borrower_type", "select", risk.BORROWER_TYPES),
    ("company_name", "text", None), ("credit_code", "text", None),
)
OPTIONAL = {"employer", "listing_kind", "borrower_type", "security_value", "company_name",
            "credit_code", "monthly_expenses",
            "assets", "debts", "monthly_debt_payments", "other_platform_borrowings"}
MONEY_FIELDS = ("monthly_income", "monthly_expenses", "assets", "debts", "monthly_debt_payments",
                "other_platform_borrowings")

i18n.register({
    "nav.borrow": ("我要借款", "Borrow"),
    "borrow.title": ("我的借款", "My borrowing"),
    "borrow.decision": ("风控审批结果", "Risk decision"),
    "borrow.no_decision": ("您还没有提交借款申请。发布借款标的前，需先通过风控审批。",
                           "You have not applied yet. A listing needs an approved risk decision."),
    "borrow.apply": ("申请授信", "Apply for credit"),
    "borrow.apply_again": ("重新申请", "Apply again"),
    "borrow.new_listing": ("发布借款", "New listing"),
    "borrow.listings": ("我的借款标的", "My listings"),
    "borrow.no_listings": ("还没有借款标的。", "No listing yet."),
    "borrow.loans": ("我的借款（还款中及已结清）", "My loans (in repayment and closed)"),
    "borrow.no_loans": ("还没有放款的借款。", "No loan has been paid out yet."),
    "borrow.open": ("查看", "Open"),
    "borrow.outcome": ("结果", "Outcome"),
    "borrow.outcome.approved": ("已通过", "Approved"),
    "borrow.outcome.refused": ("未通过", "Refused"),
    "borrow.outcome.referred": ("转人工审核", "Referred to a risk officer"),
    "borrow.grade": ("信用等级", "Grade"),
    "borrow.limit": ("信用标授信额度", "Credit limit (信用标)"),
    "borrow.band": ("可用年利率区间", "Rate band"),
    "borrow.score": ("评分", "Score"),
    "borrow.decided_at": ("审批时间", "Decided"),
    "borrow.reasons": ("主要影响因素", "Main reasons"),
    "borrow.rules": ("触发的规则", "Rules that fired"),
    "borrow.no_reasons": ("无。", "None."),
    "borrow.back": ("返回我的借款", "Back to my borrowing"),
    "apply.title": ("申请授信", "Apply for credit"),
    "apply.intro": ("请如实填写。平台将核验身份、查询征信并即时给出审批结果和理由。",
                    "Answer truthfully: the platform checks your identity and the credit "
                    "bureau and decides at once, with its reasons."),
    "apply.submit": ("提交申请", "Apply"),
    "apply.section.identity": ("身份与联系方式", "Identity and contact"),
    "apply.section.finances": ("收入与负债（元）", "Income and debts (yuan)"),
    "apply.section.loan": ("借款需求", "The loan"),
    "apply.real_name": ("真实姓名", "Real name"),
    "apply.id_number": ("居民身份证号", "Resident ID number"),
    "apply.declared_age": ("年龄", "Age"),
    "apply.province": ("户籍省份", "Province of registration"),
    "apply.mobile": ("手机号", "Mobile"),
    "apply.bank_card": ("还款银行卡号", "Bank card for repayments"),
    "apply.monthly_income": ("月收入", "Monthly income"),
    "apply.employment_type": ("就业类型", "Employment"),
    "apply.employment_years": ("现单位工作年限", "Years with the employer"),
    "apply.employer": ("工作单位", "Employer"),
    "apply.housing": ("住房情况", "Housing"),
    "apply.marital_status": ("婚姻状况", "Marital status"),
    "apply.monthly_expenses": ("月支出", "Monthly expenses"),
    "apply.assets": ("资产", "Assets"),
    "apply.debts": ("现有负债总额", "Debts owed now"),
    "apply.monthly_debt_payments": ("每月还债支出", "Monthly debt payments"),
    "apply.other_platform_borrowings": ("其中在其他网贷平台的借款", "Of which on other lending "
                                        "platforms"),
    "apply.purpose": ("借款用途", "Purpose"),
    "apply.amount": ("申请金额（元）", "Amount (yuan)"),
    "apply.term_months": ("期限（月）", "Term (months)"),
    "apply.listing_kind": ("标的类型", "Listing type"),
    "apply.security_value": ("抵押物评估价值（元，抵押标必填）",
                             "Appraised security (yuan, collateral only)"),
    "apply.borrower_type": ("借款人类型", "Borrower"),
    "apply.company_name": ("企业名称（企业借款）", "Company (legal person)"),
    "apply.credit_code": ("统一社会信用代码（企业借款）", "Unified credit code (legal person)"),
    "apply.has_arrears_record": ("有过逾期记录", "I have been in arrears before"),
    "apply.required": ("必填", "required"),
    "opt.permanent": ("正式员工", "permanent"), "opt.self_employed": ("自雇/个体", "self-employed"),
    "opt.part_time": ("兼职", "part time"), "opt.other": ("其他", "other"),
    "opt.own": ("自有住房", "own"), "opt.rent": ("租房", "rent"),
    "opt.family": ("与家人同住", "with family"), "opt.private": ("单位宿舍", "provided"),
    "opt.married": ("已婚", "married"), "opt.single": ("未婚", "single"),
    "opt.separated": ("分居", "separated"), "opt.divorced": ("离异", "divorced"),
    "opt.widow": ("丧偶", "widowed"), "opt.consumption": ("消费", "consumption"),
    "opt.business": ("经营", "business"), "opt.education": ("教育", "education"),
    "opt.medical": ("医疗", "medical"), "opt.car": ("购车", "a car"),
    "opt.home_improvement": ("装修", "home improvement"),
    "opt.debt_consolidation": ("债务整合", "debt consolidation"),
    "opt.natural": ("自然人", "a person"), "opt.legal": ("企业（法人）", "a company"),
    "opt.credit": ("信用标", "Credit"), "opt.collateral": ("抵押标", "Collateral"),
    "opt.guarantee": ("担保标", "Guarantee"), "opt.transfer": ("流转标", "Transfer"),
    "opt.instant": ("秒标", "Instant"),
    "new.title": ("发布借款标的", "New listing"),
    "new.intro": ("填写借款条件后点“预览”，即可看到每种还款方式的还款计划、费用和综合年化成本；"
                  "确认无误后保存为草稿，再提交审核。",
                  "Fill in the terms and press Preview to see the schedule, fees and all-in "
                  "cost of every repayment method; then save the draft and submit it for "
                  "review."),
    "new.kind": ("标的类型", "Listing type"),
    "new.title_field": ("标题", "Title"),
    "new.description": ("借款说明", "About the loan"),
    "new.amount": ("借款金额（元）", "Amount (yuan)"),
    "new.annual_rate": ("年利率 %", "Annual rate %"),
    "new.term": ("期限", "Term"),
    "new.term_unit": ("期限单位", "Term unit"),
    "new.unit.month": ("月", "months"), "new.unit.day": ("天", "days"),
    "new.method": ("还款方式", "Repayment method"),
    "new.security": ("保障措施（按标的类型填写）", "Security (by listing type)"),
    "new.assets": ("抵押物（抵押标）", "Collateral (collateral listings)"),
    "new.asset": ("抵押物 {n}", "Asset {n}"),
    "new.asset_class": ("类别", "Class"),
    "new.appraisal_value": ("评估价值（元）", "Appraised value (yuan)"),
    "new.appraised_on": ("评估日期", "Appraised on"),
    "new.appraiser": ("评估机构", "Appraiser"),
    "new.asset_description": ("描述", "Description"),
    "new.plate_number": ("车牌号（车辆）", "Plate number (car)"),
    "new.registration_certificate_no": ("机动车登记证书号（车辆）",
                                        "Registration certificate no. (car)"),
    "new.o2o": ("房产抵押还须线下签约、公证并办理抵押登记，由运营人员核实后登记，"
                "全部完成后方可发布。",
                "A house also needs the signed contract, notarisation and mortgage "
                "registration offline; an operator records each, and the listing is published "
                "only when all are done."),
    "new.guarantor": ("担保方（担保标）", "Guarantor (guarantee listings)"),
    "new.no_guarantor": ("不适用", "none"),
    "new.claim": ("原债权（流转标）", "The claim sold (transfer listings)"),
    "new.claim_principal": ("债权本金（元）", "Principal (yuan)"),
    "new.claim_rate": ("债权年利率 %", "Annual rate %"),
    "new.claim_maturity": ("到期日", "Maturity"),
    "new.preview": ("预览", "Preview"),
    "new.create": ("保存草稿", "Save draft"),
    "new.previewed": ("预览：各还款方式", "Preview: each repayment method"),
    "new.chosen": ("（所选）", "(chosen)"),
    "new.accepted": ("符合规则，可以发布。", "Within the rules: this listing can be created."),
    "new.refused": ("不能发布：", "Would be refused: "),
    "new.rule": ("规则 {rule}", "rule {rule}"),
    "new.not_saved": ("未保存：", "Not saved: "),
    "mine.title": ("借款标的 #{id}", "Listing #{id}"),
    "mine.submit": ("提交审核", "Submit for review"),
    "mine.submitted": ("已提交审核，请等待运营人员审核。",
                       "Submitted: an operator will review it."),
    "mine.draft_hint": ("草稿仅您本人可见。提交后由运营人员审核。",
                        "Only you see a draft. Once submitted, an operator reviews it."),
    "mine.public": ("在市场中查看", "See it on the marketplace"),
    "loan.title": ("借款 #{id} 的还款", "Repaying loan #{id}"),
    "loan.status": ("状态", "Status"),
    "loan.days_past_due": ("逾期天数", "Days past due"),
    "loan.outstanding": ("剩余本金", "Principal owed"),
    "loan.due_now": ("当前应还", "Due now"),
    "loan.payoff": ("提前结清金额（今日）", "Pay off today"),
    "loan.next_due": ("下一还款日", "Next due"),
    "loan.penalty": ("罚息", "Penalty interest"),
    "loan.penalty_none": ("目前没有罚息。", "No penalty interest so far."),
    "loan.penalty_why": ("逾期超过 {grace} 天宽限期后，按未还本息每日 {daily}（年化 {yearly}%）"
                         "计收罚息；"
                         "利息、费用与罚息合计不超过年化 {cap}%（法定上限）。",
                         "After a grace of {grace} days, penalty interest runs at {daily} a day "
                         "({yearly}% a year) on the unpaid instalments; interest, fees and "
                         "penalty together stay within {cap}% a year, the legal cap."),
    "loan.penalty_now": ("当前罚息 ¥{amount}（已减免 ¥{waived}）。",
                         "Penalty now ¥{amount} (¥{waived} waived)."),
    "loan.schedule": ("还款计划", "Schedule"),
    "loan.instalment_status": ("状态", "Status"),
    "loan.repay": ("偿还当前应还", "Repay what is due"),
    "loan.repay_amount": ("还款金额（元）", "Amount (yuan)"),
    "loan.repay_submit": ("立即还款", "Repay"),
    "loan.early": ("提前全部结清", "Repay the whole loan early"),
    "loan.early_text": ("今日结清需支付 ¥{amount}（剩余本金、当期已计利息及已到期费用），"
                        "无提前还款违约金。",
                        "Paying off today costs ¥{amount} (principal owed, this period's interest "
                        "so far and fees fallen due); there is no early repayment charge."),
    "loan.early_submit": ("提前结清", "Pay off"),
    "loan.paid": ("还款成功：¥{amount}（其中本金 ¥{principal}、利息 ¥{interest}、罚息 ¥{penalty}、"
                  "费用 ¥{fees}）。",
                  "Repaid ¥{amount} (principal ¥{principal}, interest ¥{interest}, penalty "
                  "¥{penalty}, fees ¥{fees})."),
    "loan.refused": ("未能还款：", "Not repaid: "),
    "loan.closed": ("该笔借款已结清。", "This loan is repaid."),
    "loan.overdue_title": ("逾期的期数与罚息", "Overdue instalments and their penalty"),
    "loan.overdue_row": ("第 {seq} 期（{due} 到期）已逾期 {days} 天；扣除 {grace} 天宽限期后"
                         "计罚息 {charged} 天，按未还本息 ¥{owed} 每日 {daily} 计，"
                         "本期分摊罚息 ¥{penalty}。",
                         "Instalment {seq} (due {due}) is {days} days overdue; after the "
                         "{grace}-day grace, {charged} days of penalty at {daily} a day on the "
                         "¥{owed} unpaid: ¥{penalty} of the penalty is this instalment's."),
    "loan.overdue_note": ("各期罚息由当前罚息总额按逾期金额 × 计罚息天数分摊，合计即上方的罚息。",
                          "Each instalment's part is the loan's penalty apportioned by amount × "
                          "days charged; together they make the penalty above."),
    "prepay.title": ("提前部分还款", "Repay part of the loan early"),
    "prepay.intro": ("先归还一部分本金，剩余本金重新安排还款计划。今天还需一并支付当前应还（如有）"
                     "和本期至今已计的利息。先试算，确认后才会扣款。",
                     "Pay back part of the principal now and the rest is rescheduled. Today you "
                     "also pay what is due (if anything) and this period's interest so far. "
                     "See the quote first: nothing is paid until you confirm."),
    "prepay.principal": ("提前归还的本金（元）", "Principal to prepay (yuan)"),
    "prepay.principal_hint": ("须大于零且小于未到期本金 ¥{not_due}；"
                              "全部还清请用下方“提前全部结清”。",
                              "Above zero and below the ¥{not_due} not yet due; to repay it "
                              "all, pay off the loan below."),
    "prepay.reamortise": ("剩余本金如何重新安排", "How the rest is rescheduled"),
    "prepay.lower_instalment": ("减少每期还款额", "Lower instalments"),
    "prepay.lower_instalment_text": ("还款期数和还款日不变，以后每期少还。",
                                     "The same number of instalments and due dates; each one "
                                     "is smaller."),
    "prepay.shorter_term": ("缩短还款期限", "A shorter term"),
    "prepay.shorter_term_text": ("每期还款额基本不变，更早还完、利息更少；最后几期将被取消。",
                                 "About the same payment each time, finished sooner with less "
                                 "interest; the last instalments are cancelled."),
    "prepay.shorter_na": ("本借款到期一次还本（先息后本或到期还本付息），只能选择减少每期还款额"
                          "（利息随本金减少）。",
                          "This loan repays principal at maturity: only lower instalments "
                          "(less interest) applies."),
    "prepay.quote_submit": ("试算", "See the quote"),
    "prepay.quote": ("试算结果（尚未扣款）", "Quote (nothing paid yet)"),
    "prepay.pay_now": ("今日需支付", "To pay today"),
    "prepay.breakdown": ("其中本金 ¥{principal}、利息 ¥{interest}、罚息 ¥{penalty}、费用 ¥{fees}",
                         "principal ¥{principal}, interest ¥{interest}, penalty ¥{penalty}, "
                         "fees ¥{fees}"),
    "prepay.charge": ("提前还款违约金", "Early repayment charge"),
    "prepay.charge_why": ("¥0.00：本平台的借款产品规则不收取提前还款违约金，"
                          "提前还款只需支付本期至今已计的利息。",
                          "¥0.00: under the platform's loan product rules repaying early costs "
                          "nothing extra; you only pay this period's interest accrued so far."),
    "prepay.col.item": ("项目", "Item"),
    "prepay.col.now": ("目前", "Now"),
    "prepay.col.after": ("提前还款后", "After"),
    "prepay.count": ("剩余期数", "Instalments left"),
    "prepay.next": ("下一期应还（本息）", "Next instalment (principal and interest)"),
    "prepay.interest_left": ("剩余利息合计", "Interest still to pay"),
    "prepay.last_due": ("最后还款日", "Last due date"),
    "prepay.new_schedule": ("提前还款后的还款计划", "The schedule after the prepayment"),
    "prepay.confirm": ("确认提前还款 ¥{amount}", "Confirm: repay ¥{amount} now"),
    "prepay.short": ("账户余额不足：本次需支付 ¥{need}（当前应还 ¥{due}、本期已计利息 ¥{accrued}、"
                     "提前归还本金 ¥{principal}），请先充值。",
                     "Your balance is too low: this takes ¥{need} (¥{due} due now, ¥{accrued} "
                     "interest this period, ¥{principal} principal); deposit first."),
    "o2o.title": ("线下办理进度（O2O）", "Offline steps (O2O)"),
    "o2o.intro": ("抵押物的线下手续由运营人员核实后登记，本页仅供查看进度。",
                  "An operator records each offline step once checked; this page only shows "
                  "the progress."),
    "o2o.asset": ("抵押物 {n}：{cls}", "Asset {n}: {cls}"),
    "o2o.col.step": ("步骤", "Step"),
    "o2o.col.status": ("状态", "Status"),
    "o2o.col.day": ("日期", "Date"),
    "o2o.col.by": ("登记人", "Recorded by"),
    "o2o.col.reference": ("编号", "Reference"),
    "o2o.step.appraisal": ("评估", "Valuation"),
    "o2o.step.signed_contract": ("签订借款合同", "Signed contract"),
    "o2o.step.notarisation": ("公证", "Notarisation"),
    "o2o.step.mortgage_registration": ("抵押登记", "Mortgage registration"),
    "o2o.step.vehicle_registration": ("机动车登记（车牌号及登记证书号）",
                                      "Vehicle registration (plate and certificate number)"),
    "o2o.done": ("已完成", "Done"),
    "o2o.pending": ("未办理", "Not yet"),
    "o2o.by_operator": ("运营人员", "An operator"),
    "o2o.by_appraiser": ("评估机构 {name}", "Appraiser {name}"),
    "o2o.by_record": ("标的资料", "The listing's record"),
    "o2o.required": ("发布前尚需：", "Still needed before publishing:"),
    "o2o.need.step": ("抵押物 {n}：{step}（由运营人员线下核实后登记）",
                      "Asset {n}: {step} (an operator records it once checked offline)"),
    "o2o.need.reference": ("抵押物 {n}：抵押登记还须登记不动产登记证明号",
                           "Asset {n}: the mortgage registration needs its certificate number"),
    "o2o.need.vehicle": ("抵押物 {n}：机动车登记（车牌号及机动车登记证书号）尚未登记",
                         "Asset {n}: the vehicle registration (plate and certificate number) "
                         "is not recorded"),
    "o2o.need.appraisal": ("抵押物 {n}：评估报告已出具 {age} 天，"
                           "超过 {most} 天的有效期，须重新评估",
                           "Asset {n}: the appraisal is {age} days old, more than the {most} "
                           "days allowed; have it appraised again"),
    "o2o.need.none": ("线下手续已全部完成。", "Every offline step is done."),
    "inst.scheduled": ("未到期", "not yet due"), "inst.due": ("待还", "due"),
    "inst.paid": ("已还", "paid"), "inst.overdue": ("逾期", "overdue"),
    "inst.cancelled": ("已取消", "cancelled"), "inst.written_off": ("已核销", "written off"),
})


#: Refusals whose code covers many cases (bad input, a compliance rule) that only the
#: borrower's pages meet: our sentence for the service's message, its figures taken from it —
#: (message key, pattern), checked before the generic ones of `web/refusals`.
REFUSAL_PATTERNS = refusals.patterns(*((f"{OWN}.{name}", pattern) for name, pattern in (
    ("p.credit_available", r"amount (?P<amount>\S+) exceeds the borrower's available credit"
     r" (?P<available>\S+) \(limit (?P<limit>\S+), used (?P<used>[^)\s]+)\)"),
    ("p.credit_limit_missing", r"needs the borrower's credit limit"),
    ("p.rate_band", r"annual_rate (?P<rate>\S+) % is outside grade (?P<grade>\S+)'s rate"
     r" band (?P<low>[\d.]+)–(?P<high>[\d.]+) %"),
    ("p.collateral_capacity", r"amount (?P<amount>\S+) exceeds (?P<capacity>\S+), the"
     r" appraised value"),
    ("p.cost_cap", r"(?P<cost>[\d.]+%)(?: a year)? exceeds (?P<cap>[\d.]+%),? the cap for a"
     r" contract made on (?P<on>\d{4}-\d\d-\d\d)"),
    ("p.platform_cap", r"(?P<who>a natural person|a legal person[\w ]*) may owe at most"
     r" (?P<most>\S+) on this platform: outstanding (?P<outstanding>\S+), headroom"
     r" (?P<headroom>\S+), this listing (?P<amount>\S+)"),
    ("p.all_platforms_cap", r"(?P<who>a natural person|a legal person[\w ]*) may owe at most"
     r" (?P<most>\S+) on all lending platforms together: outstanding (?P<outstanding>\S+)"
     r" \((?P<here>\S+) here, (?P<elsewhere>\S+) elsewhere[^)]*\), headroom"
     r" (?P<headroom>\S+), this listing (?P<amount>\S+)"),
    ("p.no_assets", r"needs at least one pledged asset"),
    ("p.appraisal_future", r"appraisal date (?P<day>\S+) is in the future"),
    ("p.appraiser", r"appraiser (is required|must be named)"),
    ("p.title", r"title must have 2 to 120 characters"),
    ("p.term_whole", r"^term must be a whole number$"),
    ("p.term_range", r"term must be a whole number of (?P<unit>month|day)s from 1 to"
     r" (?P<longest>\d+)"),
    ("p.method", r"allows repayment methods"),
    ("p.day_term", r"a term in days is repaid as a bullet"),
    ("p.kind", r"choose a listing type|unknown listing kind"),
    ("p.guarantor", r"choose a guarantor|the guarantor must be named"),
    ("p.claim_matured", r"the claim matured on (?P<day>\S+)"),
    ("p.security_value", r"needs the security's appraised value"),
    ("p.legal_person", r"a legal person applies with company_name and credit_code"),
    ("p.province", r"must be a province-level division"),
    ("p.card", r"must be 12 to 19 digits"),
    ("p.real_name", r"real_name is required"),
    ("p.over_due", r"amount exceeds the (?P<due>\S+) now due"),
    ("p.prepay_bounds", r"a part prepayment must be above zero and below the outstanding"
     r" principal (?P<balance>\S+)"),
    ("p.prepay_bullet", r"repays principal at maturity: only lower_instalment applies"),
    ("p.prepay_mode", r"reamortise must be shorter_term or lower_instalment"),
    ("p.prepay_nothing", r"nothing is left to re-amortise"),
)))

i18n.register({f"{OWN}.{key}": text for key, text in {
    "nothing_due": ("当前没有到期应还的款项；如需提前还款请使用“提前全部结清”",
                    "Nothing is due now; to repay before the due date, pay off early"),
    "loan_closed": ("该笔借款已结清", "This loan is already repaid"),
    "nothing_to_prepay": ("所有期数均已到期，请偿还当前应还", "Every instalment has fallen "
                          "due: repay what is due instead"),
    "not_borrower": ("只有借款人本人可以偿还这笔借款",
                     "Only the borrower repays this loan"),
    "not_applicant": ("只有借款人本人可以提交该标的",
                      "Only the borrower who drafted it may submit this listing"),
    "role_required": ("您的账户没有此操作所需的角色（借款人）",
                      "Your account lacks the role this needs (borrower)"),
    "listing_not_editable": ("该标的已不能再修改", "This listing can no longer change"),
    "illegal_transition": ("该标的当前的状态不允许这一步（例如已提交的标的不能再次提交）",
                           "The listing's status does not allow this step (a submitted "
                           "listing cannot be submitted again)"),
    "risk_decision_required": ("借款须先通过风控审批：请先申请授信",
                               "A listing needs an approved risk decision: apply for "
                               "credit first"),
    "risk_decision_stale": ("您的风控审批结果已过有效期，请重新申请授信",
                            "Your risk decision is too old: apply again"),
    "risk_not_approved": ("风控未通过（被拒绝或仍在人工审核中），暂不能发布借款",
                          "Risk control has not approved you (refused, or still with a "
                          "risk officer): no listing for now"),
    "not_publishable": ("发布条件尚未满足（如线下手续未办完）",
                        "Conditions for publishing are not met yet (offline steps, "
                        "for instance)"),
    "p.credit_available": ("借款金额 ¥{amount} 超过您的可用信用额度 ¥{available}"
                           "（授信额度 ¥{limit}，已用 ¥{used}）",
                           "The amount ¥{amount} exceeds your available credit "
                           "¥{available} (limit ¥{limit}, used ¥{used})"),
    "p.credit_limit_missing": ("信用标需要授信额度，您还没有：请先申请授信",
                               "A credit listing needs a credit limit and you have none: "
                               "apply for credit first"),
    "p.rate_band": ("年利率 {rate}% 不在您信用等级 {grade} 的可用利率区间 {low}–{high}% 内",
                    "The annual rate {rate}% is outside the rate band {low}–{high}% "
                    "of your grade {grade}"),
    "p.collateral_capacity": ("借款金额 ¥{amount} 超过抵押物可借额度 ¥{capacity}"
                              "（评估价值 × 各类抵押物的最高抵押率）",
                              "The amount ¥{amount} exceeds ¥{capacity}, the appraised "
                              "value times the loan-to-value cap of each asset"),
    "p.cost_cap": ("综合年化成本 {cost} 超过 {on} 订立合同适用的上限 {cap}。",
                   "The all-in annual cost {cost} exceeds {cap}, the cap for a "
                   "contract made on {on}."),
    "p.platform_cap": ("借款余额上限：{who}在本平台的借款余额不得超过 ¥{most}；"
                       "您现有 ¥{outstanding}，尚可借 ¥{headroom}，本标的 ¥{amount}。",
                       "Borrowing cap: {who} may owe at most ¥{most} on this platform; "
                       "you owe ¥{outstanding}, ¥{headroom} is left, this listing is "
                       "¥{amount}."),
    "p.all_platforms_cap": ("借款余额上限：{who}在所有网贷平台的借款余额合计"
                            "不得超过 ¥{most}；您现有 ¥{outstanding}（本平台 ¥{here}，"
                            "其他平台 ¥{elsewhere}），尚可借 ¥{headroom}，"
                            "本标的 ¥{amount}。",
                            "Borrowing cap: {who} may owe at most ¥{most} on all lending "
                            "platforms together; you owe ¥{outstanding} (¥{here} here, "
                            "¥{elsewhere} elsewhere), ¥{headroom} is left, this listing "
                            "is ¥{amount}."),
    "p.no_assets": ("抵押标至少需要一项抵押物（请填写评估价值）",
                    "A collateral listing needs at least one pledged asset (give its "
                    "appraised value)"),
    "p.appraisal_future": ("评估日期 {day} 不能晚于今天",
                           "The appraisal date {day} is in the future"),
    "p.appraiser": ("请填写评估机构", "Name the appraiser"),
    "p.title": ("标题须为 2 至 120 个字", "The title needs 2 to 120 characters"),
    "p.term_whole": ("期限须为整数", "The term is a whole number"),
    "p.term_range": ("期限须为 1 至 {longest} {unit}", "The term is 1 to {longest} {unit}"),
    "p.method": ("该标的类型不支持所选还款方式", "This listing type does not allow that "
                 "repayment method"),
    "p.day_term": ("按天计的期限只能到期一次还本付息",
                   "A term in days is repaid in one payment at maturity"),
    "p.kind": ("请选择标的类型", "Choose a listing type"),
    "p.guarantor": ("请选择担保方", "Choose a guarantor"),
    "p.claim_matured": ("原债权已于 {day} 到期，不能转让",
                        "The claim matured on {day}: it cannot be sold"),
    "p.security_value": ("抵押标须填写抵押物评估价值",
                         "A collateral listing needs the security's appraised value"),
    "p.legal_person": ("企业借款须填写企业名称和统一社会信用代码",
                       "A company applies with its name and unified credit code"),
    "p.province": ("请填写省级行政区，如 北京", "Give a province, e.g. 北京"),
    "p.card": ("银行卡号须为 12 至 19 位数字", "A bank card has 12 to 19 digits"),
    "p.real_name": ("请填写真实姓名", "Give your real name"),
    "p.over_due": ("还款金额超过当前应还 ¥{due}；如需多还，请使用提前还款",
                   "That is more than the ¥{due} now due; to repay more, repay early"),
    "p.prepay_bounds": ("提前还款本金须大于零且小于未到期本金 ¥{balance}；"
                        "要全部还清请使用“提前全部结清”",
                        "The principal to prepay must be above zero and below the "
                        "¥{balance} not yet due; to repay it all, pay off the loan"),
    "p.prepay_bullet": ("该还款方式到期一次还本，只能选择“减少每期还款额”",
                        "This repayment method repays principal at maturity: only "
                        "“lower instalments” applies"),
    "p.prepay_mode": ("请选择“缩短还款期限”或“减少每期还款额”",
                      "Choose a shorter term or lower instalments"),
    "p.prepay_nothing": ("所有期数均已到期，请偿还当前应还",
                         "Every instalment has fallen due: repay what is due instead"),
}.items()})


def _t(request: Request, key: str, **values: Any) -> str:
    return i18n.translate(i18n.language_of(request), key, **values)


def _risk_env(request: Request) -> risk.RiskEnv:
    """One risk environment per app, shared with the API (rule pack, model, bureau)."""
    env: risk.RiskEnv | None = getattr(request.app.state, "risk_env", None)
    if env is None:
        platform = platform_of(request)
        env = risk.build_env(platform.settings, platform.cipher)
        request.app.state.risk_env = env
    return env


def _refusal_text(request: Request, exc: BiaodiError | dict[str, Any]) -> str:
    """A refusal in the page's language (see `web/refusals`): the borrower's own sentences
    first, then the generic ones, labels from the application, listing and prepayment forms."""
    found = exc if isinstance(exc, dict) else listing_preview.refusal(exc)
    return refusals.say(request, found, own=OWN, own_patterns=REFUSAL_PATTERNS,
                        labels=("apply", "new", "prepay"))


# --- the dashboard ------------------------------------------------------------------------
@router.get("")
def dashboard(request: Request, user: Borrower) -> Response:
    platform = platform_of(request)
    f = listing_queries.ListingFilter(
        statuses=tuple(s.value for s in listings.ListingStatus), applicant_id=user.id,
        sort="-published_at", page_size=100)
    with platform.reader() as uow:
        decision = risk.latest_decision(uow, user.id)
        mine = listing_queries.browse(uow, f, platform.listing_rules).items
    mine.sort(key=lambda item: item["id"], reverse=True)
    loans = [item for item in mine if item["status"] in LOAN_STATUSES]
    return render(request, "borrower/dashboard.html", {
        "decision": decision, "listings": mine, "loans": loans,
        "may_apply": "borrower" in user.roles})


# --- the credit application ---------------------------------------------------------------
def _application_values(user: UserView) -> dict[str, str]:
    return {"real_name": user.real_name, "province": "北京", "employment_type": "permanent",
            "housing": "own", "marital_status": "single", "purpose": "consumption",
            "listing_kind": "credit", "borrower_type": "natural", "term_months": "12",
            "monthly_expenses": "0", "assets": "0", "debts": "0", "monthly_debt_payments": "0",
            "other_platform_borrowings": "0"}


def _apply_page(request: Request, values: dict[str, str], errors: dict[str, str],
                status: int = 200) -> Response:
    return render(request, "borrower/apply.html", {
        "fields": APPLICATION_FIELDS, "values": values, "errors": errors,
        "optional": OPTIONAL}, status)


@router.get("/apply")
def apply_page(request: Request, user: Applicant) -> Response:
    return _apply_page(request, _application_values(user), {})


def _whole(values: dict[str, str], name: str) -> int:
    text = values.get(name, "").strip()
    if not text.lstrip("-").isdigit() or len(text) > 6:
        raise InvalidInput(f"{name} must be a whole number", field=name)
    return int(text)


def _application(request: Request, values: dict[str, str], arrears: bool) -> risk.Application:
    ceiling = platform_of(request).settings.money_ceiling_fen

    def money(name: str, *, allow_zero: bool = True) -> Money:
        return Money.parse(values.get(name, "").strip() or "0", field=name,
                           allow_zero=allow_zero, ceiling_fen=ceiling)

    data: dict[str, Any] = {name: values.get(name, "").strip() for name, _, _ in APPLICATION_FIELDS}
    data["listing_kind"] = data["listing_kind"] or "credit"
    data["borrower_type"] = data["borrower_type"] or "natural"
    for name in MONEY_FIELDS:
        data[name] = money(name)
    data["amount"] = money("amount", allow_zero=False)
    data["security_value"] = (money("security_value", allow_zero=False)
                              if values.get("security_value", "").strip() else None)
    for name in ("declared_age", "employment_years", "term_months"):
        data[name] = _whole(values, name)
    return risk.Application(**data, has_arrears_record=arrears, channel="web")


@router.post("/apply")
def apply(request: Request, user: Applicant, form: Form) -> Response:
    values = {name: str(form.get(name, "")).strip()[:200] for name, _, _ in APPLICATION_FIELDS}
    arrears = form.get("has_arrears_record") == "yes"
    values["has_arrears_record"] = "yes" if arrears else ""
    errors: dict[str, str] = {}
    for name, _, _ in APPLICATION_FIELDS:
        if name not in OPTIONAL and not values[name]:
            errors[name] = _t(request, "apply.required")
    if errors:
        return _apply_page(request, values, errors, 422)
    platform = platform_of(request)
    try:
        cmd = _application(request, values, arrears)
        decision = in_transaction(platform.uow, lambda uow: risk.apply(
            uow, cmd, applicant_id=user.id, env=_risk_env(request)))
    except BiaodiError as exc:
        field = exc.field if exc.field in values else "_form"
        errors[field] = _refusal_text(request, exc)
        return _apply_page(request, values, errors, 422 if isinstance(exc, InvalidInput) else 409)
    return redirect(f"/borrow/applications/{decision['application_id']}")


@router.get("/applications/{application_id}")
def decision_page(request: Request, application_id: RowId, user: Applicant) -> Response:
    platform = platform_of(request)
    try:
        with platform.reader() as uow:
            decision = risk.get_application(uow, application_id, viewer_id=user.id, staff=False)
    except NotFound as exc:
        raise PageError(404, "error.not_found.title", "error.not_found.text") from exc
    return render(request, "borrower/decision.html", {"decision": decision})


# --- a new listing ------------------------------------------------------------------------
def _kinds_for(user: UserView) -> list[str]:
    return [k for k in KINDS if policy_for(k).applicant_role in user.roles]


def _listing_values(form: FormData | None) -> dict[str, str]:
    if form is None:
        return {"kind": "credit", "term": "12", "term_unit": "month",
                "repayment_method": "equal_installment", "asset.0.asset_class": "car"}
    names = list(LISTING_FIELDS) + [f"assets.{i}.{f}" for i in range(ASSET_ROWS)
                                    for f in ASSET_FIELDS]
    return {name: str(form.get(name, "")).strip()[:400] for name in names}


def _date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"{field} must be a date YYYY-MM-DD", field=field) from exc


def _security(request: Request, values: dict[str, str], kind: str) -> SecurityInput:
    ceiling = platform_of(request).settings.money_ceiling_fen
    fields = store_for(policy_for(kind).security_type).extra_fields
    assets = []
    if "assets" in fields:
        for i in range(ASSET_ROWS):
            prefix = f"assets.{i}."
            if not values.get(prefix + "appraisal_value"):
                continue
            assets.append(AssetInput(
                asset_class=values.get(prefix + "asset_class") or "other",
                appraisal_value=Money.parse(values[prefix + "appraisal_value"],
                                            field=prefix + "appraisal_value",
                                            ceiling_fen=ceiling),
                appraised_on=_date(values.get(prefix + "appraised_on", ""),
                                   prefix + "appraised_on"),
                appraiser=values.get(prefix + "appraiser", ""),
                description=values.get(prefix + "description", ""),
                plate_number=values.get(prefix + "plate_number") or None,
                registration_certificate_no=(values.get(prefix + "registration_certificate_no")
                                             or None)))
    guarantor_id = None
    if "guarantor_id" in fields and values.get("guarantor_id"):
        if not values["guarantor_id"].isdigit():
            raise InvalidInput("choose a guarantor", field="guarantor_id")
        guarantor_id = int(values["guarantor_id"])
    claim = None
    if "claim" in fields and values.get("claim.principal"):
        claim = ClaimInput(
            principal=Money.parse(values["claim.principal"], field="claim.principal",
                                  ceiling_fen=ceiling),
            annual_rate=parse_percent(values.get("claim.annual_rate", ""),
                                      field="claim.annual_rate"),
            maturity=_date(values.get("claim.maturity", ""), "claim.maturity"))
    return SecurityInput(assets=tuple(assets), guarantor_id=guarantor_id, claim=claim)


def _create_command(request: Request, values: dict[str, str],
                    kinds: list[str]) -> listings.CreateListing:
    kind = values.get("kind", "")
    if kind not in kinds:
        raise InvalidInput("choose a listing type", field="kind")
    term = values.get("term", "")
    if not term.isdigit() or len(term) > 5:
        raise InvalidInput("term must be a whole number", field="term")
    return listings.CreateListing(
        kind=kind, title=values.get("title", ""), description=values.get("description", ""),
        amount=Money.parse(values.get("amount", ""), field="amount",
                           ceiling_fen=platform_of(request).settings.money_ceiling_fen),
        annual_rate=parse_percent(values.get("annual_rate", "")), term=int(term),
        term_unit=values.get("term_unit", "month"),
        repayment_method=values.get("repayment_method", ""),
        security=_security(request, values, kind))


def _new_page(request: Request, user: UserView, values: dict[str, str],
              errors: dict[str, str], options: list[dict[str, Any]] | None = None,
              status: int = 200) -> Response:
    platform = platform_of(request)
    with platform.reader() as uow:
        decision = risk.latest_decision(uow, user.id)
        guarantors = listing_preview.guarantors(uow)
    return render(request, "borrower/new_listing.html", {
        "values": values, "errors": errors, "options": options, "kinds": _kinds_for(user),
        "methods": listing_preview.METHOD_ORDER, "asset_rows": range(ASSET_ROWS),
        "asset_classes": ("house", "car", "art", "other"), "guarantors": guarantors,
        "decision": decision}, status)


@router.get("/listings/new")
def new_listing_page(request: Request, user: Borrower) -> Response:
    return _new_page(request, user, _listing_values(None), {})


@router.post("/listings/new")
def new_listing(request: Request, user: Borrower, form: Form) -> Response:
    values = _listing_values(form)
    platform = platform_of(request)
    try:
        cmd = _create_command(request, values, _kinds_for(user))
    except BiaodiError as exc:
        return _new_page(request, user, values, {exc.field or "_form": _refusal_text(
            request, exc)}, status=422)
    if form.get("action") == "preview":
        try:
            with platform.uow() as uow:  # never committed: the preview keeps nothing
                options = listing_preview.preview(uow, cmd, applicant_id=user.id,
                                                  rules=platform.listing_rules)
        except BiaodiError as exc:
            return _new_page(request, user, values, {exc.field or "_form": _refusal_text(
                request, exc)}, status=422)
        for option in options:
            if option.get("refusal"):
                option["refusal"]["text"] = _refusal_text(request, option["refusal"])
        return _new_page(request, user, values, {}, options)
    try:
        listing = in_transaction(platform.uow, lambda uow: listings.create_listing(
            uow, cmd, applicant_id=user.id, rules=platform.listing_rules))
    except BiaodiError as exc:
        field = exc.field if exc.field in values else "_form"
        return _new_page(request, user, values, {field: _refusal_text(request, exc)},
                         status=422 if isinstance(exc, InvalidInput) else 409)
    return redirect(f"/borrow/listings/{listing.id}")


def _my_listing(request: Request, user: UserView, listing_id: RowId) -> dict[str, Any]:
    platform = platform_of(request)
    try:
        with platform.reader() as uow:
            item = listing_queries.detail(uow, listing_id, platform.listing_rules,
                                          viewer_id=user.id)
    except NotFound as exc:
        raise PageError(404, "error.not_found.title", "error.not_found.text") from exc
    if item["applicant_id"] != user.id:
        raise PageError(404, "error.not_found.title", "error.not_found.text")
    return item


def _o2o(request: Request, item: dict[str, Any]) -> list[dict[str, Any]] | None:
    """A collateral listing's offline steps per pledged asset (valuation, contract,
    notarisation, mortgage or vehicle registration) with what publishing still needs."""
    assets = item.get("security", {}).get("assets")
    if item["kind"] != "collateral" or not assets:
        return None
    platform = platform_of(request)
    today, oldest = platform.clock.today(), platform.listing_rules.config.appraisal_max_age_days
    pending = item["status"] in ("draft", "submitted", "approved")
    out = []
    for n, asset in enumerate(assets, 1):
        appraisal = asset["appraisal"]
        steps = [{"name": "appraisal", "done": True, "day": appraisal["appraised_on"],
                  "by": _t(request, "o2o.by_appraiser", name=appraisal["appraiser"]),
                  "reference": ""}]
        needs = []
        age = (today - date.fromisoformat(appraisal["appraised_on"])).days
        if age > oldest:
            needs.append(_t(request, "o2o.need.appraisal", n=n, age=age, most=oldest))
        if asset["asset_class"] == "house":
            for name in listings.OFFLINE_STEPS:
                rec = (asset.get("house") or {}).get(name)
                steps.append({"name": name, "done": rec is not None,
                              "day": rec["done_on"] if rec else None,
                              "by": _t(request, "o2o.by_operator") if rec else "",
                              "reference": rec["reference"] if rec else ""})
                if rec is None:
                    needs.append(_t(request, "o2o.need.step", n=n,
                                    step=_t(request, f"o2o.step.{name}")))
                elif name == "mortgage_registration" and not rec["reference"]:
                    needs.append(_t(request, "o2o.need.reference", n=n))
        elif asset["asset_class"] == "car":
            vehicle = asset.get("vehicle")
            steps.append({"name": "vehicle_registration", "done": vehicle is not None,
                          "day": None, "by": _t(request, "o2o.by_record") if vehicle else "",
                          "reference": vehicle["plate_number"] if vehicle else ""})
            if vehicle is None:
                needs.append(_t(request, "o2o.need.vehicle", n=n))
        out.append({"n": n, "id": asset.get("id"), "asset_class": asset["asset_class"],
                    "description": asset.get("description", ""), "steps": steps,
                    "needs": needs if pending else []})
    return out


def _listing_context(request: Request, user: UserView, listing_id: RowId,
                     error: str | None = None) -> dict[str, Any]:
    item = _my_listing(request, user, listing_id)
    o2o = _o2o(request, item)
    return {"item": item, "error": error, "public": listing_queries.PUBLIC_STATUSES,
            "o2o": o2o, "o2o_pending": item["status"] in ("draft", "submitted", "approved")}


@router.get("/listings/{listing_id}")
def my_listing(request: Request, listing_id: RowId, user: Borrower) -> Response:
    return render(request, "borrower/listing.html", _listing_context(request, user, listing_id))


@router.post("/listings/{listing_id}/submit")
def submit_listing(request: Request, listing_id: RowId, user: Borrower, _form: Form) -> Response:
    platform = platform_of(request)
    try:
        in_transaction(platform.uow, lambda uow: listings.submit(
            uow, listing_id, actor_id=user.id, rules=platform.listing_rules))
    except NotFound as exc:
        raise PageError(404, "error.not_found.title", "error.not_found.text") from exc
    except BiaodiError as exc:
        return render(request, "borrower/listing.html", _listing_context(
            request, user, listing_id, _refusal_text(request, exc)), exc.status)
    return redirect(f"/borrow/listings/{listing_id}")


# --- a loan and its repayments --------------------------------------------------------------
def _loan_state(request: Request, user: UserView, listing_id: RowId
                ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The borrower's loan (servicing view) and its listing; 404 for anyone else's."""
    platform = platform_of(request)
    today = platform.clock.today()
    try:
        with platform.reader() as uow:
            servicing.check_may_see(uow, listing_id, user.id, [])
            item = listing_queries.detail(uow, listing_id, platform.listing_rules,
                                          viewer_id=user.id)
        if item["status"] not in LOAN_STATUSES or item["applicant_id"] != user.id:
            raise NotFound(f"listing {listing_id} is not a loan", field="listing_id")
        # a loan is taken over by servicing at its first close of business, or now
        in_transaction(platform.uow, lambda uow: ensure_onboarded(
            uow, listing_id, today, platform.servicing_rules))
        with platform.reader() as uow:
            loan = servicing.loan_view(uow, listing_id, today)
    except BiaodiError as exc:
        raise PageError(404, "error.not_found.title", "error.not_found.text") from exc
    return loan, item


def _fen(text: str | None) -> int:
    return Money.parse(text or "0", field="amount", allow_zero=True).fen


def _overdue_rows(loan: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """Each instalment past its due date and unpaid: days overdue, days charged (beyond the
    grace period) and its part of the loan's penalty, apportioned by amount × days charged."""
    grace = loan["grace_days"] or 0
    rows = []
    for inst in loan["instalments"]:
        due = date.fromisoformat(inst["due_date"])
        if inst["status"] not in ("due", "overdue") or due >= today:
            continue
        days = (today - due).days
        rows.append({"seq": inst["seq"], "due_date": inst["due_date"], "days": days,
                     "charged": max(0, days - grace),
                     "owed": _fen(inst["principal"]) + _fen(inst["interest"])})
    weights = [r["owed"] * r["charged"] for r in rows]
    penalty = _fen(loan["penalty"])
    parts = (allocate_largest_remainder(penalty, weights) if penalty and any(weights)
             else [0] * len(rows))
    for row, part in zip(rows, parts, strict=True):
        row["owed"], row["penalty"] = str(Money(row["owed"])), str(Money(part))
    return rows


def _schedule_facts(loan: dict[str, Any]) -> dict[str, Any]:
    """The instalments still to come: how many, the next payment, the interest left."""
    rows = [i for i in loan["instalments"] if i["status"] == "scheduled"
            and _fen(i["principal"]) + _fen(i["interest"]) > 0]
    return {"count": len(rows),
            "next": str(Money(_fen(rows[0]["principal"]) + _fen(rows[0]["interest"])))
            if rows else "0.00",
            "interest": str(Money(sum(_fen(r["interest"]) for r in rows))),
            "last_due": rows[-1]["due_date"] if rows else None}


def _loan_page(request: Request, user: UserView, listing_id: RowId, *,
               done: dict[str, Any] | None = None, error: str | None = None,
               prepay: dict[str, Any] | None = None, status: int = 200) -> Response:
    loan, item = _loan_state(request, user, listing_id)
    today = platform_of(request).clock.today()
    daily = loan["penalty_daily_rate_ppm"] or 0
    not_due = _fen(loan["outstanding_principal"]) - _fen(loan["principal_due"])
    return render(request, "borrower/loan.html", {
        "loan": loan, "item": item, "done": done, "error": error,
        "daily": f"{daily / 10_000:.4f}%".replace(".0000%", "%"),
        "yearly": f"{daily * 365 / 10_000:.2f}",
        "cap": f"{(loan['cost_cap_ppm'] or 0) / 10_000:.2f}",
        "overdue": _overdue_rows(loan, today), "schedule_now": _schedule_facts(loan),
        "may_prepay": _schedule_facts(loan)["count"] > 0 and not_due > 0,
        "not_due": str(Money(max(not_due, 0))),
        "level": item["repayment_method"] in LEVEL_METHODS,
        "prepay": prepay or {"values": {"principal": "", "reamortise": "lower_instalment"},
                             "errors": {}},
        "key": secrets.token_urlsafe(16)}, status)


@router.get("/loans/{listing_id}")
def loan_page(request: Request, listing_id: RowId, user: Borrower) -> Response:
    done = None
    if request.query_params.get("paid"):
        done = {k: request.query_params.get(k, "0")
                for k in ("paid", "principal", "interest", "penalty", "fees")}
    return _loan_page(request, user, listing_id, done=done)


def _repaid_link(listing_id: RowId, body: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    query = urlencode({"paid": body["amount"], "principal": body["principal"],
                       "interest": body["interest"], "penalty": body["penalty"],
                       "fees": body["fees"]})
    return f"/borrow/loans/{listing_id}?{query}"


def _repaid(made: repayments.Repaid) -> dict[str, str]:
    return {"amount": str(made.amount + made.fees), "principal": str(made.principal),
            "interest": str(made.interest), "penalty": str(made.penalty),
            "fees": str(made.fees)}


def _repay(request: Request, user: UserView, listing_id: RowId, form: FormData, *,
           early: bool) -> Response:
    platform = platform_of(request)
    key = str(form.get("key", "")).strip()[:100]
    amount_text = str(form.get("amount", "")).strip()
    rules = platform.servicing_rules
    if not key:
        return _loan_page(request, user, listing_id, error=_t(request, "error.csrf.text"),
                          status=422)

    def act(uow: Any) -> Answer:
        if early:
            made = repayments.repay_early(uow, repayments.RepayEarly(
                listing_id, user.id, key), rules)
        else:
            amount = Money.parse(amount_text, field="amount",
                                 ceiling_fen=platform.settings.money_ceiling_fen)
            made = repayments.repay(uow, repayments.Repay(listing_id, user.id, amount, key),
                                    rules)
        return Answer(201, _repaid(made))

    route = "early-repayment" if early else "repayments"
    answer = run_idempotent(platform.uow, scope=f"user:{user.id}:web {route} {listing_id}",
                            key=key, payload={"amount": amount_text}, fn=act)
    if answer.status_code == 201:
        return redirect(_repaid_link(listing_id, answer.body))
    if answer.status_code == 404:
        raise PageError(404, "error.not_found.title", "error.not_found.text")
    return _loan_page(request, user, listing_id, error=_refusal_text(
        request, answer.body["error"]), status=answer.status_code)


@router.post("/loans/{listing_id}/repay")
def repay(request: Request, listing_id: RowId, user: Borrower, form: Form) -> Response:
    return _repay(request, user, listing_id, form, early=False)


@router.post("/loans/{listing_id}/repay-early")
def repay_early(request: Request, listing_id: RowId, user: Borrower, form: Form) -> Response:
    return _repay(request, user, listing_id, form, early=True)


def _prepay_quote(request: Request, user: UserView, listing_id: RowId,
                  cmd: repayments.RepayEarly) -> dict[str, Any]:
    """What a part prepayment would take and the schedule after it: the service runs it in
    a transaction that is never committed, so nothing is paid or changed."""
    platform = platform_of(request)
    with platform.uow() as uow:  # never committed: the quote keeps nothing
        made = repayments.repay_early(uow, cmd, platform.servicing_rules)
        after = servicing.loan_view(uow, listing_id, platform.clock.today())
    return {"paid": _repaid(made), "after": after, "facts": _schedule_facts(after)}


@router.post("/loans/{listing_id}/prepay")
def prepay(request: Request, listing_id: RowId, user: Borrower, form: Form) -> Response:
    """A part prepayment in two steps: `quote` shows what it takes, the early repayment
    charge (none) and the new schedule; `confirm` makes it (idempotent on the form's key)."""
    platform = platform_of(request)
    values = {"principal": str(form.get("principal", "")).strip()[:40],
              "reamortise": str(form.get("reamortise", "")).strip()[:40]}
    key = str(form.get("key", "")).strip()[:100]
    confirm = form.get("action") == "confirm"
    loan, _item = _loan_state(request, user, listing_id)

    def refused(field: str, text: str, status: int) -> Response:
        return _loan_page(request, user, listing_id, status=status, prepay={
            "values": values, "errors": {field: text}})

    if not key:
        return refused("_form", _t(request, "error.csrf.text"), 422)
    if values["reamortise"] not in {m.value for m in Reamortise}:
        return refused("reamortise", _t(request, f"{OWN}.p.prepay_mode"), 422)
    try:
        principal = Money.parse(values["principal"], field="principal", allow_zero=False,
                                ceiling_fen=platform.settings.money_ceiling_fen)
    except BiaodiError as exc:
        return refused("principal", _refusal_text(request, exc), 422)
    cmd = repayments.RepayEarly(listing_id, user.id, f"web-part-{key}", principal,
                                values["reamortise"])
    if not confirm:
        try:
            quote = _prepay_quote(request, user, listing_id, cmd)
        except (NotFound, Forbidden) as exc:
            raise PageError(404, "error.not_found.title", "error.not_found.text") from exc
        except InsufficientBalance:
            return refused("principal", _short_text(request, loan, principal), 409)
        except BiaodiError as exc:
            return refused(exc.field if exc.field in values else "principal",
                           _refusal_text(request, exc), exc.status)
        return _loan_page(request, user, listing_id, prepay={
            "values": values, "errors": {}, "quote": quote, "key": key})

    def act(uow: Any) -> Answer:
        return Answer(201, _repaid(repayments.repay_early(uow, cmd,
                                                          platform.servicing_rules)))

    answer = run_idempotent(platform.uow,
                            scope=f"user:{user.id}:web early-repayment-part {listing_id}",
                            key=key, payload=values, fn=act)
    if answer.status_code == 201:
        return redirect(_repaid_link(listing_id, answer.body))
    if answer.status_code in (403, 404):
        raise PageError(404, "error.not_found.title", "error.not_found.text")
    error = answer.body["error"]
    text = (_short_text(request, loan, principal) if error.get("code") == "insufficient_balance"
            else _refusal_text(request, error))
    return refused(error.get("field") if error.get("field") in values else "principal", text,
                   answer.status_code)


def _short_text(request: Request, loan: dict[str, Any], principal: Money) -> str:
    """The balance refusal of a prepayment, with what it needs: arrears, the interest accrued
    in the current period and the principal."""
    accrued = (_fen(loan["payoff"]) - _fen(loan["due_now"]) - _fen(loan["outstanding_principal"])
               + _fen(loan["principal_due"]))
    need = _fen(loan["due_now"]) + max(accrued, 0) + principal.fen
    return _t(request, "prepay.short", need=i18n.money(str(Money(need))),
              due=i18n.money(loan["due_now"]), accrued=i18n.money(str(Money(max(accrued, 0)))),
              principal=i18n.money(str(principal)))
